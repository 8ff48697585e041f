// Entry point. Everything here runs from a same-origin module file: the CSP forbids inline script.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './i18n';
import './styles/theme.css';
import './styles/app.css';
import { App } from './App';
import { restoreSession } from './auth/session';
import './gateway/connection';
import { applyTheme, storedTheme } from './ui/theme';

applyTheme(storedTheme());
void restoreSession();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
