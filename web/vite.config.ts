/// <reference types="vitest/config" />
// Vite builds the client into dist/, which the madang binary embeds and serves at `/`.
// In development the API and the gateway live on the Rust server, so both are proxied to it.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const server = process.env.MADANG_DEV_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The strict CSP forbids inline scripts, so the module-preload polyfill (an inline
    // snippet in some setups) stays off; every browser we target supports modulepreload.
    modulePreload: { polyfill: false },
    sourcemap: false,
    rollupOptions: {
      output: {
        // Libraries change far less often than the app: a separate chunk stays cached across releases.
        manualChunks: (id) => (id.includes('/node_modules/') ? 'vendor' : undefined),
      },
    },
  },
  server: {
    // The Host header is kept as the browser sent it, so the server sees a same-origin request
    // (it refuses cookie routes and WebSocket upgrades from a foreign Origin).
    proxy: {
      '/api': { target: server, changeOrigin: false },
      '/gateway': { target: server, ws: true, changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    restoreMocks: true,
    setupFiles: ['src/test/setup.ts'],
    // The browser suite in e2e/ runs against a real server with `npm run e2e`.
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
