// One build for the front end, written into the Python package so the wheel carries it: the
// cadres' field app (index.html, served at /app/); more pages (the officials' workbench, the
// villagers' page) are further entries of `input` sharing src/i18n.js, src/lib/ and the login.
// Everything is bundled: no CDN.
import {fileURLToPath, URL} from 'node:url';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {defineConfig} from 'vite';
import vue from '@vitejs/plugin-vue';
import {VitePWA} from 'vite-plugin-pwa';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url)));
// people's text: one catalogue per language in the Python package (models/catalogue/), shared
// with the service; src/i18n.js imports it through the alias @catalogue
const catalogueDir = fileURLToPath(new URL('../models/catalogue', import.meta.url));
const zh = JSON.parse(readFileSync(new URL('../models/catalogue/zh-CN.json', import.meta.url)));
const outDir = fileURLToPath(new URL('../mobile_api/static/app', import.meta.url));

// Vant's icon font comes as a data: URL with a CDN fallback; the service's Content-Security-Policy
// (font-src 'self') refuses the first and the rule "no CDN" the second. The font is written
// out as a file of the build instead, and Vant's @font-face is pointed at it.
const FONT_RULE = /src:url\(data:font\/woff2;charset=utf-8;base64,([A-Za-z0-9+/=]+)\) format\("woff2"\),url\(\/\/at\.alicdn\.com[^)]*\) format\("woff"\)/;
function vantIconFontAsFile() {
  const fontPath = fileURLToPath(new URL('./src/assets/generated/vant-icon.woff2', import.meta.url));
  return {
    name: 'vant-icon-font-as-file',
    enforce: 'pre',
    transform(code, id) {
      if (!id.replace(/\\/g, '/').endsWith('/vant/lib/index.css')) return null;
      const match = FONT_RULE.exec(code);
      if (!match) this.error('the @font-face of vant/lib/index.css changed: update FONT_RULE');
      mkdirSync(fileURLToPath(new URL('./src/assets/generated/', import.meta.url)), {recursive: true});
      writeFileSync(fontPath, Buffer.from(match[1], 'base64'));
      return code.replace(FONT_RULE, 'src:url("@/assets/generated/vant-icon.woff2") format("woff2")');
    },
  };
}

export default defineConfig({
  base: '/app/',
  define: {__APP_VERSION__: JSON.stringify(pkg.version)},
  plugins: [
    vantIconFontAsFile(),
    vue(),
    VitePWA({
      registerType: 'prompt',
      injectRegister: false,
      filename: 'sw.js',
      manifestFilename: 'manifest.webmanifest',
      includeAssets: ['icons/*.png'],
      manifest: {
        name: zh.app.name,
        short_name: zh.app.short_name,
        lang: 'zh-CN',
        start_url: '/app/',
        scope: '/app/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#f7f8fa',
        theme_color: '#c8102e',
        icons: [
          {src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png'},
          {src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png'},
          {src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable'},
        ],
      },
      workbox: {
        // the app shell: every built file of the field app (the villagers' page is online-only)
        globPatterns: ['**/*.{js,css,html,png,woff2,webmanifest}'],
        // the officials' workbench (online only, with ECharts) stays out of the cadres' phones
        globIgnores: ['officials.html', 'assets/wb-*'],
        navigateFallback: '/app/index.html',
        navigateFallbackAllowlist: [/^\/app\//],
        cleanupOutdatedCaches: true,
        // the API and the sync gateway are never cached: the service worker leaves them alone
        runtimeCaching: [],
      },
    }),
  ],
  resolve: {alias: {'@': fileURLToPath(new URL('./src', import.meta.url)), '@catalogue': catalogueDir}},
  // the dev server may read the catalogue beside the front end's own files
  server: {fs: {allow: ['.', catalogueDir]}},
  build: {
    outDir,
    emptyOutDir: true,
    rollupOptions: {
      input: {
        app: fileURLToPath(new URL('./index.html', import.meta.url)),
        apply: fileURLToPath(new URL('./apply.html', import.meta.url)),
        officials: fileURLToPath(new URL('./officials.html', import.meta.url)),
      },
      output: {
        // the workbench's own chunks (and ECharts) are named wb-*: see globIgnores
        entryFileNames: (chunk) => (chunk.name === 'officials' ? 'assets/wb-[name]-[hash].js' : 'assets/[name]-[hash].js'),
        chunkFileNames: (chunk) => (chunk.moduleIds.length && chunk.moduleIds.every(
          (id) => /[\\/](src[\\/]officials|node_modules[\\/](echarts|zrender|tslib))[\\/]/.test(id))
          ? 'assets/wb-[name]-[hash].js' : 'assets/[name]-[hash].js'),
        assetFileNames: (asset) => ((asset.names || [asset.name]).some((n) => /officials|workbench/.test(n || ''))
          ? 'assets/wb-[name]-[hash][extname]' : 'assets/[name]-[hash][extname]'),
      },
    },
  },
});
