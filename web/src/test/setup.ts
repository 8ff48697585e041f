// Tests render in English unless they choose otherwise.
import '../i18n';
