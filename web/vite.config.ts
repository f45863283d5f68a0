// The admin UI's build: `npm run build` (run by `npm install` through the root `prepare` script)
// writes web/dist, which Hookflow serves at `/` (src/ui/static.ts).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Hashed file names under assets/ are served with a year-long cache (src/ui/static.ts).
    assetsDir: 'assets',
    reportCompressedSize: false,
  },
  server: {
    // `npx vite web` for UI work: the API comes from a Hookflow started with `npm start`.
    proxy: { '/api': 'http://127.0.0.1:8787', '/hooks': 'http://127.0.0.1:8787' },
  },
});
