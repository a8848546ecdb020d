// Screens of the workbench. Hash URLs (/officials#/alert/<id>): a link in an SMS opens the
// alert itself, after the login when this browser has none.
import {createRouter, createWebHashHistory} from 'vue-router';
import {useSession} from '../stores/session.js';

export const OFFICIAL_ROLES = ['town_official', 'county_official', 'central_admin'];
const COUNTY_AND_CITY = ['county_official', 'central_admin'];

const routes = [
  {path: '/login', component: () => import('./views/OfficialLogin.vue'), meta: {public: true}},
  {path: '/', component: () => import('./views/AlertList.vue')},
  {path: '/alert/:id', component: () => import('./views/AlertDetail.vue'), props: true},
  {path: '/rosters', component: () => import('./views/RostersView.vue'), meta: {roles: COUNTY_AND_CITY}},
  {path: '/review', component: () => import('./views/ReviewView.vue')},
  {path: '/households', component: () => import('./views/HouseholdsView.vue')},
  {path: '/devices', component: () => import('./views/DevicesView.vue')},
  {path: '/reports', component: () => import('./views/ReportsView.vue'), meta: {roles: COUNTY_AND_CITY}},
  {path: '/:rest(.*)', redirect: '/'},
];

export const router = createRouter({history: createWebHashHistory(), routes});

router.beforeEach((to) => {
  const session = useSession();
  if (to.meta.public) return true;
  const role = session.current?.role;
  if (!session.loggedIn || session.needsPassword || !OFFICIAL_ROLES.includes(role)) {
    return {path: '/login', query: to.fullPath !== '/' ? {next: to.fullPath} : {}};
  }
  if (to.meta.roles && !to.meta.roles.includes(role)) return '/';
  return true;
});
