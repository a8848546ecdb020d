// The officials' workbench (领导端), served at /officials: alerts, duty rosters, review, reports.
// Online only (no service worker); the login and the catalogue are the field app's own.
import {createApp, watch} from 'vue';
import {createPinia} from 'pinia';
import {Locale} from 'vant';
import enUS from 'vant/es/locale/lang/en-US';
import zhCN from 'vant/es/locale/lang/zh-CN';
import 'vant/lib/index.css';
import '../styles.css';
import './workbench.css';
import {lang} from '../i18n.js';
import OfficialsApp from './OfficialsApp.vue';
import {router} from './router.js';

// Vant's own words (the confirmation dialog's 确认 / 取消, loading texts) follow the page's language
watch(lang, (now) => {
  if (now === 'en') Locale.use('en-US', enUS);
  else Locale.use('zh-CN', zhCN);
  document.documentElement.lang = now === 'en' ? 'en' : 'zh-CN';
}, {immediate: true});

document.body.dataset.app = 'officials';
createApp(OfficialsApp).use(createPinia()).use(router).mount('#app');
