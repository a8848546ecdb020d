// What a cadre is told after saving: stored here, and whether it uploads now or later.
import {showToast} from 'vant';
import {t} from '../i18n.js';

export function announceSaved() {
  showToast(navigator.onLine ? t('app.saved') : t('app.saved_offline'));
}
