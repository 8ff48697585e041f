import { afterEach, describe, expect, it } from 'vitest';
import i18n, { browserLanguage, chooseLanguage, storedLanguage } from '.';
import { en } from './en';
import { ko } from './ko';
import { daysAgo, formatDay, formatTime, sameDay } from './format';

function leaves(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : leaves(value as object, `${prefix}${key}.`),
  );
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]!).sort();
}

describe('translations', () => {
  it('have the same keys and the same placeholders in Korean and English', () => {
    expect(leaves(ko)).toEqual(leaves(en));
    for (const key of leaves(en)) {
      const english = i18n.getFixedT('en')(key);
      const korean = i18n.getFixedT('ko')(key);
      expect(placeholders(korean), key).toEqual(placeholders(english));
      expect(korean, key).not.toBe('');
    }
  });
});

describe('language choice', () => {
  afterEach(() => chooseLanguage('en'));

  it('follows the browser, preferring the first language we ship', () => {
    expect(browserLanguage(['ko-KR', 'en-US'])).toBe('ko');
    expect(browserLanguage(['fr-FR', 'en-GB'])).toBe('en');
    expect(browserLanguage(['de'])).toBe('en');
  });

  it('keeps an explicit choice in localStorage and can go back to the browser', () => {
    chooseLanguage('ko');
    expect(storedLanguage()).toBe('ko');
    expect(i18n.language).toBe('ko');
    expect(document.documentElement.lang).toBe('ko');
    chooseLanguage(null);
    expect(storedLanguage()).toBeNull();
    expect(i18n.language).toBe(browserLanguage());
  });
});

describe('date formatting', () => {
  const date = new Date(2025, 2, 4, 15, 7);

  it('localises times and days', () => {
    expect(formatTime(date, 'en')).toBe('3:07 PM');
    // The day-period word depends on the ICU version, so only the Korean order is pinned.
    expect(formatTime(date, 'ko')).toMatch(/^\S+ 3:07$/);
    expect(formatDay(date, 'en')).toBe('Tuesday, March 4, 2025');
    expect(formatDay(date, 'ko')).toBe('2025년 3월 4일 화요일');
  });

  it('counts calendar days, not 24-hour spans', () => {
    expect(daysAgo(new Date(2025, 2, 3, 23, 59), new Date(2025, 2, 4, 0, 1))).toBe(1);
    expect(daysAgo(new Date(2025, 2, 4, 0, 1), new Date(2025, 2, 4, 23, 59))).toBe(0);
    expect(sameDay(new Date(2025, 2, 4, 0, 0), new Date(2025, 2, 4, 23, 59))).toBe(true);
  });
});
