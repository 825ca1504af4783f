import { defineConfig } from 'drizzle-kit'

// Used only by `pnpm --filter @cardplane/authorizations db:generate` to write SQL migrations into drizzle/.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
})
