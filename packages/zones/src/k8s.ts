import { stringify } from 'yaml'
import type { ZoneMap, ZoneService } from './zone-map.js'
import { serviceNodeArgs } from './service-runtime.js'

/** One generated manifest file: path relative to `k8s/generated/` and its YAML text. */
export interface ManifestFile {
  path: string
  content: string
}

const HEADER = '# GENERATED from k8s/zones.yaml by `pnpm zones:generate`. Do not edit by hand.\n'
const LABEL_SERVICE = 'cardplane.io/service'
const LABEL_GROUP = 'cardplane.io/group'

function namespaceOf(map: ZoneMap, s: ZoneService): string {
  const g = map.groups.find((x) => x.id === s.group)
  if (!g) throw new Error(`service ${s.name} has no group`)
  return g.namespace
}

function doc(objects: unknown[]): string {
  return HEADER + objects.map((o) => '---\n' + stringify(o, { lineWidth: 0 })).join('')
}

function peer(map: ZoneMap, s: ZoneService): unknown {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespaceOf(map, s) } },
    podSelector: { matchLabels: { [LABEL_SERVICE]: s.name } },
  }
}

/**
 * Render every manifest the zone map implies: namespaces, default-deny NetworkPolicies plus one allow
 * policy per service (ingress from its callers, egress to its callees, DNS), Deployments and Services,
 * and SPIRE registrations (ClusterSPIFFEID). Output is deterministic so a test can diff it.
 */
export function renderManifests(map: ZoneMap, opts: { image?: string } = {}): ManifestFile[] {
  const image = opts.image ?? 'cardplane/cardplane:dev'
  const files: ManifestFile[] = []
  const byName = new Map(map.services.map((s) => [s.name, s]))

  files.push({
    path: 'namespaces.yaml',
    content: doc(
      map.groups.map((g) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: g.namespace, labels: { [LABEL_GROUP]: String(g.id), 'cardplane.io/zone': g.name } },
      })),
    ),
  })

  for (const g of map.groups) {
    const services = map.services.filter((s) => s.group === g.id)
    const objects: unknown[] = [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'default-deny-all', namespace: g.namespace },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      },
    ]
    for (const s of services) {
      const callers = map.edges.filter((e) => e.to === s.name).map((e) => byName.get(e.from)!)
      const callees = map.edges.filter((e) => e.from === s.name).map((e) => byName.get(e.to)!)
      objects.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: `${s.name}-edges`, namespace: g.namespace },
        spec: {
          podSelector: { matchLabels: { [LABEL_SERVICE]: s.name } },
          policyTypes: ['Ingress', 'Egress'],
          ingress: [
            ...(callers.length ? [{ from: callers.map((c) => peer(map, c)), ports: [{ protocol: 'TCP', port: 8080 }] }] : []),
            ...(s.internet.ingress.length
              ? [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: s.internet.ingress.map((port) => ({ protocol: 'TCP', port })) }]
              : []),
          ],
          egress: [
            // DNS only to the cluster resolver.
            {
              to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
              ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
            },
            // The service's own datastores live in its own namespace, labelled with its name.
            {
              to: [{ podSelector: { matchLabels: { 'cardplane.io/datastore-of': s.name } } }],
              ports: [{ protocol: 'TCP', port: 5432 }, { protocol: 'TCP', port: 6379 }],
            },
            ...(callees.length ? [{ to: callees.map((c) => peer(map, c)), ports: [{ protocol: 'TCP', port: 8080 }] }] : []),
            ...(s.internet.egress.length
              ? [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } }], ports: s.internet.egress.map((port) => ({ protocol: 'TCP', port })) }]
              : []),
          ],
        },
      })
    }
    files.push({ path: `g${g.id}-${g.name}/network-policies.yaml`, content: doc(objects) })

    const workloads: unknown[] = []
    for (const s of services) {
      const labels = { [LABEL_SERVICE]: s.name, [LABEL_GROUP]: String(s.group) }
      workloads.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: s.name, namespace: g.namespace, labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: { [LABEL_SERVICE]: s.name } },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: s.name,
              automountServiceAccountToken: false,
              containers: [
                {
                  name: s.name,
                  image,
                  args: ['node', ...serviceNodeArgs(`${s.dir}/src/main.ts`)],
                  ports: [{ name: 'http', containerPort: 8080 }],
                  env: [
                    { name: 'HOST', value: '0.0.0.0' },
                    { name: 'PORT', value: '8080' },
                    { name: 'CARDPLANE_TRUST_DOMAIN', value: map.trustDomain },
                    { name: 'SPIFFE_ENDPOINT_SOCKET', value: 'unix:///run/spire/agent-sockets/spire-agent.sock' },
                  ],
                  readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
                  livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
                  securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
                  volumeMounts: [{ name: 'spire-agent-socket', mountPath: '/run/spire/agent-sockets', readOnly: true }],
                },
              ],
              volumes: [{ name: 'spire-agent-socket', csi: { driver: 'csi.spiffe.io', readOnly: true } }],
            },
          },
        },
      })
      workloads.push({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: s.name, namespace: g.namespace, labels },
      })
      workloads.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: s.name, namespace: g.namespace, labels },
        spec: { selector: { [LABEL_SERVICE]: s.name }, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] },
      })
    }
    files.push({ path: `g${g.id}-${g.name}/workloads.yaml`, content: doc(workloads) })
  }

  // SPIRE controller-manager registrations: the identity is bound to namespace + service account.
  files.push({
    path: 'spire-registrations.yaml',
    content: doc(
      map.services.map((s) => ({
        apiVersion: 'spire.spiffe.io/v1alpha1',
        kind: 'ClusterSPIFFEID',
        metadata: { name: `cardplane-${s.name}` },
        spec: {
          spiffeIDTemplate: s.spiffeId,
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespaceOf(map, s) } },
          podSelector: { matchLabels: { [LABEL_SERVICE]: s.name } },
          workloadSelectorTemplates: [`k8s:ns:${namespaceOf(map, s)}`, `k8s:sa:${s.name}`],
        },
      })),
    ),
  })
  return files
}
