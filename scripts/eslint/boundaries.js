// ESLint rule enforcing the dependency rule of DESIGN §1 by resolving each relative
// import to the component folder it lands in (src/<component>/...), so no path trick escapes it.
import path from 'node:path';

/** Which components each component may import (itself always included). */
export const ALLOWED = {
  protocol: [],
  common: [],
  apiserver: ['common'],
  controllers: ['common'],
  devices: ['protocol', 'common'],
  cloud: ['protocol', 'common', 'devices'],
  edge: ['protocol', 'common', 'devices'],
  cli: ['protocol', 'common', 'devices', 'cloud', 'edge', 'apiserver', 'controllers'],
};

/** Third-party packages a component must never use (e.g. the edge never talks to the API server). */
export const FORBIDDEN_PACKAGES = {
  edge: ['@kubernetes/client-node'],
  protocol: ['@kubernetes/client-node', 'better-sqlite3', 'ws', 'mqtt', 'aedes', '@grpc/grpc-js'],
  common: ['@kubernetes/client-node', 'better-sqlite3', 'ws', 'mqtt', 'aedes', '@grpc/grpc-js'],
};

function componentOf(file, root) {
  const rel = path.relative(path.join(root, 'src'), file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep)[0];
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the component dependency rule (DESIGN §1)' },
    schema: [],
    messages: {
      crossing: "'{{from}}' must not import '{{to}}' (DESIGN §1 dependency rule): {{spec}}",
      pkg: "'{{from}}' must not import the package '{{spec}}' (DESIGN §1 dependency rule)",
    },
  },
  create(context) {
    const root = context.cwd;
    const file = context.filename;
    const from = componentOf(file, root);
    if (from === undefined) return {};
    const allowed = new Set([from, ...(ALLOWED[from] ?? [])]);
    const banned = FORBIDDEN_PACKAGES[from] ?? [];
    function check(node, spec) {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.')) {
        const to = componentOf(path.resolve(path.dirname(file), spec), root);
        if (to === undefined || allowed.has(to)) return;
        context.report({ node, messageId: 'crossing', data: { from, to, spec } });
      } else if (banned.some((p) => spec === p || spec.startsWith(`${p}/`))) {
        context.report({ node, messageId: 'pkg', data: { from, spec } });
      }
    }
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

export default { rules: { boundaries: rule } };
