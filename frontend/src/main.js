// The cadres' field app (扶贫干部端), served at /app/.
import {createApp} from 'vue';
import {createPinia} from 'pinia';
import 'vant/lib/index.css';
import './styles.css';
import App from './App.vue';
import {router} from './router/index.js';
import {followLanguageInVant} from './lib/vant_locale.js';
import {registerWorker} from './lib/worker.js';

followLanguageInVant();
createApp(App).use(createPinia()).use(router).mount('#app');
registerWorker();
