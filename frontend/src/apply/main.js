// The villagers' page (群众端), served at /apply: file a mediation request without an account,
// get a receipt number, follow the request with it. Online only (no service worker here).
import {createApp} from 'vue';
import 'vant/lib/index.css';
import '../styles.css';
import './apply.css';
import {followLanguageInVant} from '../lib/vant_locale.js';
import ApplyApp from './ApplyApp.vue';

followLanguageInVant();
createApp(ApplyApp).mount('#app');
