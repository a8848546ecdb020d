// What every officials' page shares (templates/base.html): the texts of the header, login form
// and page links in both languages, and `start`, which wires the login form, the logout and
// language buttons and shows the page's view once logged in (session.js keeps the token).
'use strict';
const FieldsyncPage = (() => {
  const COMMON = {
    zh: {username: '用户名', password: '密码', login: '登录', logout: '退出', switch: 'English',
         nav_alerts: '预警', nav_review: '复核', nav_households: '农户查询', nav_reports: '报表',
         empty: '暂无数据', more: '加载更多', previous: '上一页', next: '下一页'},
    en: {username: 'Username', password: 'Password', login: 'Log in', logout: 'Log out',
         switch: '中文', nav_alerts: 'Alerts', nav_review: 'Review', nav_households: 'Households',
         nav_reports: 'Reports', empty: 'Nothing to show', more: 'Load more',
         previous: 'Previous', next: 'Next'},
  };
  const $ = (id) => document.getElementById(id);

  // the pages run under a Content-Security-Policy without inline script or style
  // (mobile_api/security_headers.py): anything it blocks is a bug, so it fails loudly
  document.addEventListener('securitypolicyviolation', (event) => {
    throw new Error(`Content-Security-Policy blocked ${event.effectiveDirective}: ` +
                    `${event.blockedURI || 'inline'} (${event.sourceFile || ''}:${event.lineNumber})`);
  });

  function el(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function text(texts, lang, key) {
    return texts?.[lang]?.[key] || COMMON[lang][key] || key;
  }

  function translate(root, lang, texts) {
    document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
    root.querySelectorAll('[data-t]').forEach((el) => { el.textContent = text(texts, lang, el.dataset.t); });
    // the page links keep the language across pages
    document.querySelectorAll('nav.pages a').forEach((a) => {
      const url = new URL(a.href);
      if (lang === 'en') url.searchParams.set('lang', 'en'); else url.searchParams.delete('lang');
      a.href = url.pathname + url.search;
    });
    $('lang-switch').textContent = text(texts, lang, 'switch');
  }

  // start({texts, view, show(page), relabel(page)}): `view` is the id of the section shown after
  // login, `show` loads it, `relabel` redraws what the page wrote itself after a language switch
  function start({texts, view, show, relabel = () => {}}) {
    const page = {
      lang: document.body.dataset.lang === 'en' ? 'en' : 'zh',
      get auth() { return FieldsyncSession.auth; },
      t: (key) => text(texts, page.lang, key),
      api: (path, init = {}) => FieldsyncSession.api(path, init, page.lang),
    };
    async function enter() {
      $('login-view').hidden = true;
      $(view).hidden = false;
      $('logout').hidden = false;
      await show(page);
    }
    $('login-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      $('login-error').textContent = '';
      try {
        await FieldsyncSession.login($('username').value.trim(), $('password').value, page.lang);
        await enter();
      } catch (error) {
        $('login-error').textContent = error.message;
      }
    });
    $('logout').addEventListener('click', () => { FieldsyncSession.logout(); window.location.reload(); });
    $('lang-switch').addEventListener('click', () => {
      page.lang = page.lang === 'en' ? 'zh' : 'en';
      translate(document, page.lang, texts);
      if (page.auth) relabel(page);
    });
    translate(document, page.lang, texts);
    // after `start` has returned, so the page script's own constants are all set
    if (page.auth) Promise.resolve().then(enter).catch(() => { FieldsyncSession.logout(); window.location.reload(); });
    return page;
  }

  return {COMMON, el, text, translate, start};
})();
