// The officials' workbench (领导端), served at /officials: alerts, duty rosters, review, reports.
// Online only (no service worker); the login and the catalogue are the field app's own.
import {createApp} from 'vue';
import {createPinia} from 'pinia';
import 'vant/lib/index.css';
import '../styles.css';
import './workbench.css';
import {followLanguageInVant} from '../lib/vant_locale.js';
import OfficialsApp from './OfficialsApp.vue';
import {router} from './router.js';

followLanguageInVant();

document.body.dataset.app = 'officials';
createApp(OfficialsApp).use(createPinia()).use(router).mount('#app');
