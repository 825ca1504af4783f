// Baseline for the HTTP benchmark: a bare node:http server answering what the key service answers to
// payments/cvv/verify, with no work at all. node-vault against it, on the same machine at the same
// time, shows how much of the HTTP figure is the machine and the client rather than the key service.
import http from 'node:http'

const body = JSON.stringify({ request_id: 'x', lease_id: '', renewable: false, lease_duration: 0, data: { valid: false, key_version: 1 }, wrap_info: null, warnings: null, auth: null })
const srv = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.setHeader('content-type', 'application/json')
    res.end(body)
  })
})
srv.listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => srv.close(() => process.exit(0)))
