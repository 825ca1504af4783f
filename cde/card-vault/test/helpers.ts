/** Status and upstream code of a refused service-client call (empty when the call succeeded). */
export async function refusal(p: Promise<unknown>): Promise<{ status?: number; code?: string }> {
  try {
    await p
  } catch (err) {
    const ctx = (err as { context?: { statusCode?: number; upstreamCode?: string } }).context ?? {}
    return { ...(ctx.statusCode !== undefined ? { status: ctx.statusCode } : {}), ...(ctx.upstreamCode ? { code: ctx.upstreamCode } : {}) }
  }
  return {}
}
