// Screens of the field app. Hash URLs: every reload asks for /app/ itself, which the service
// worker has precached, so any screen reopens offline.
import {createRouter, createWebHashHistory} from 'vue-router';
import {useSession} from '../stores/session.js';

const routes = [
  {path: '/login', component: () => import('../views/LoginView.vue'), meta: {public: true}},
  {path: '/', component: () => import('../views/RosterView.vue')},
  {path: '/household/new', component: () => import('../views/HouseholdCreateView.vue')},
  {path: '/household/:id', component: () => import('../views/HouseholdView.vue'), props: true},
  {path: '/household/:id/edit', component: () => import('../views/HouseholdEditView.vue'), props: true},
  {path: '/household/:householdId/visit', component: () => import('../views/VisitFormView.vue'), props: true},
  {path: '/visit/:id', component: () => import('../views/VisitView.vue'), props: true},
  {path: '/visit/:id/correct', component: () => import('../views/VisitFormView.vue'),
   props: (route) => ({correctId: route.params.id})},
  {path: '/mediation', component: () => import('../views/MediationListView.vue')},
  {path: '/mediation/new', component: () => import('../views/MediationFormView.vue')},
  {path: '/mediation/:id', component: () => import('../views/MediationView.vue'), props: true},
  {path: '/mediation/:requestId/event', component: () => import('../views/CaseEventFormView.vue'), props: true},
  {path: '/mediation/:id/correct', component: () => import('../views/MediationFormView.vue'),
   props: (route) => ({correctId: route.params.id})},
  {path: '/case_event/:id/correct', component: () => import('../views/CaseEventFormView.vue'),
   props: (route) => ({correctId: route.params.id})},
  {path: '/sync', component: () => import('../views/SyncView.vue')},
  {path: '/:rest(.*)', redirect: '/'},
];

export const router = createRouter({history: createWebHashHistory(), routes});

router.beforeEach((to) => {
  const session = useSession();
  if (to.meta.public) return true;
  if (!session.loggedIn || session.needsPassword || !session.isCadre) return '/login';
  return true;
});
