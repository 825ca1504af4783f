import { defineConfig } from 'drizzle-kit'

// Only used by `pnpm exec drizzle-kit generate`; the service applies ./drizzle at startup.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
})
