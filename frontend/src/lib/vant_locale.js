// Vant's own words (a dialog's 确认 / 取消, a picker's buttons, loading texts) follow the page's
// language, on every page of the project: call once in the page's main.js, before mounting.
import {watch} from 'vue';
import {Locale} from 'vant';
import enUS from 'vant/es/locale/lang/en-US';
import zhCN from 'vant/es/locale/lang/zh-CN';
import {lang} from '../i18n.js';

export function followLanguageInVant() {
  return watch(lang, (now) => {
    if (now === 'en') Locale.use('en-US', enUS);
    else Locale.use('zh-CN', zhCN);
    document.documentElement.lang = now === 'en' ? 'en' : 'zh-CN';
  }, {immediate: true});
}
