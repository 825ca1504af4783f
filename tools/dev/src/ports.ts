import { createServer } from 'node:net'

/** Whether something already listens on host:port. */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(true))
    srv.listen(port, host, () => srv.close(() => resolve(false)))
  })
}

/**
 * A free ephemeral port on host. The port is released before the service binds it, so another process
 * could take it in between; on loopback in tests that window is small enough, and a lost race shows up
 * as a service that exits at start with EADDRINUSE, not as a hang.
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}
