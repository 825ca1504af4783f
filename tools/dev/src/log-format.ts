const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92, 94]
const LEVEL_COLOUR: Record<string, number> = { fatal: 41, error: 31, warn: 33, info: 32, debug: 90, trace: 90 }
// Fields every pino line has, or that the prefix already says.
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'reqId'])

/** A stable colour per service name. */
export function colourFor(name: string, index: number): number {
  return COLOURS[index % COLOURS.length] ?? 37
}

function paint(code: number, text: string, colour: boolean): string {
  return colour ? `\u001b[${code}m${text}\u001b[0m` : text
}

/**
 * One child output line for the terminal: `[service] 12:00:01 INFO message key=value`. Pino JSON lines
 * are shortened; anything else is printed as is. Lines were already scrubbed by the service's logger.
 */
export function formatLine(service: string, colourCode: number, line: string, width: number, colour: boolean): string {
  const prefix = paint(colourCode, `[${service}]`.padEnd(width + 2), colour)
  if (!line.startsWith('{')) return `${prefix} ${line}`
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(line) as Record<string, unknown>
  } catch {
    return `${prefix} ${line}`
  }
  const level = typeof rec.level === 'string' ? rec.level : 'info'
  const time = typeof rec.time === 'string' ? rec.time.slice(11, 19) : ''
  const extras: string[] = []
  for (const [k, v] of Object.entries(rec)) {
    if (SKIP.has(k)) continue
    if (k === 'req' && typeof v === 'object' && v !== null) {
      const r = v as { method?: string; url?: string }
      extras.push(`${r.method ?? ''} ${r.url ?? ''}`.trim())
      continue
    }
    if (k === 'res' && typeof v === 'object' && v !== null) {
      extras.push(`status=${String((v as { statusCode?: number }).statusCode)}`)
      continue
    }
    if (k === 'err' && typeof v === 'object' && v !== null) {
      const e = v as { type?: string; message?: string; stack?: string }
      extras.push(`${e.type ?? 'Error'}: ${e.message ?? ''}`)
      if (level === 'error' || level === 'fatal') extras.push(`\n${e.stack ?? ''}`)
      continue
    }
    extras.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
  }
  const lvl = paint(LEVEL_COLOUR[level] ?? 37, level.toUpperCase().padEnd(5), colour)
  return `${prefix} ${time} ${lvl} ${String(rec.msg ?? '')}${extras.length ? ` ${extras.join(' ')}` : ''}`
}
