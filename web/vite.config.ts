// Builds the portal into web/dist: hashed file names under /assets (served with
// a year of caching by certkeep serve), no inline scripts or styles (the page's
// Content-Security-Policy allows neither), JSX compiled for Preact.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Never inline an asset as a data: URL in CSS or JS: every file is one request the CSP allows.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
