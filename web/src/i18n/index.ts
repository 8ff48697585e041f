// i18next set up with the two languages the product ships. The language follows the browser
// until the user picks one in settings; that choice is kept in localStorage.
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { en } from './en';
import { ko } from './ko';

export const languages = ['ko', 'en'] as const;
export type Language = (typeof languages)[number];

const storageKey = 'madang.language';

function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (languages as readonly string[]).includes(value);
}

/** The user's explicit choice, if they made one. */
export function storedLanguage(): Language | null {
  try {
    const value = localStorage.getItem(storageKey);
    return isLanguage(value) ? value : null;
  } catch {
    return null;
  }
}

/** The first of the browser's preferred languages that we ship, English otherwise. */
export function browserLanguage(preferred: readonly string[] = navigator.languages ?? [navigator.language]): Language {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

/** Switches the UI language; `null` goes back to following the browser. */
export function chooseLanguage(language: Language | null): void {
  try {
    if (language) localStorage.setItem(storageKey, language);
    else localStorage.removeItem(storageKey);
  } catch {
    // Storage can be unavailable (private mode); the choice then lasts for this page only.
  }
  void i18n.changeLanguage(language ?? browserLanguage());
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, ko: { translation: ko } },
  lng: storedLanguage() ?? browserLanguage(),
  fallbackLng: 'en',
  // React escapes what it renders; i18next must not escape a second time.
  interpolation: { escapeValue: false },
  initAsync: false,
});

i18n.on('languageChanged', (language) => {
  document.documentElement.lang = language;
});
document.documentElement.lang = i18n.language;

export default i18n;
