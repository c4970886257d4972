// Vite build of the qingshui dashboard. The output (web/dist) is embedded in the qingshui binary
// by crates/server/src/http/web.rs; `npm run dev` serves it with hot reload and forwards the
// API to a running `qingshui serve`/`qingshui demo` on 127.0.0.1:8080.
import { defineConfig } from 'vitest/config';

// Node's `process`, declared here to avoid a dependency on @types/node for one line.
declare const process: { env: Record<string, string | undefined> };
const backend = process.env.QINGSHUI_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // ECharts is imported module by module (src/echarts.ts); this keeps it in its own cacheable chunk.
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts';
          return undefined;
        },
      },
    },
    chunkSizeWarningLimit: 900,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      // SSE must not be buffered: http-proxy streams by default, so a plain entry is enough.
      '/api': { target: backend, changeOrigin: false },
      '/v1.1': { target: backend, changeOrigin: false },
    },
  },
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
  },
});
