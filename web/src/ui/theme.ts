// Dark or light, or whatever the system prefers. Applied as `data-theme` on <html>; the CSS
// variables in styles/theme.css do the rest, so no style is ever injected at run time.
export const themes = ['system', 'dark', 'light'] as const;
export type Theme = (typeof themes)[number];

const storageKey = 'madang.theme';

export function storedTheme(): Theme {
  try {
    const value = localStorage.getItem(storageKey);
    return (themes as readonly string[]).includes(value ?? '') ? (value as Theme) : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}

export function chooseTheme(theme: Theme): void {
  try {
    if (theme === 'system') localStorage.removeItem(storageKey);
    else localStorage.setItem(storageKey, theme);
  } catch {
    // Without storage the choice lasts for this page only.
  }
  applyTheme(theme);
}
