// Exports the metadata of the published Activepieces pieces pinned in package.json to the snapshot the
// server ships (pieces.json.gz beside this script), so the server needs no node and no network. Run by
// hand when the pins move:
//
//     cd app/pieces/snapshot && npm ci --ignore-scripts && node export.mjs
//
// Each piece is loaded as the engine loads it: the package's exported `Piece`, whose metadata() is the
// piece's displayName, logo, auth, actions and triggers (functions dropped, as JSON keeps them); name and
// version come from the package itself, and the release bounds default as the real server's install does
// ('0.0.0' to '999.999.999'). Each piece is also checked against the `PieceMetadata` zod schema of the
// pinned @activepieces/pieces-framework: published pieces predate parts of it (older property and auth
// shapes), so a piece that does not fit is kept as published and only reported.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'))
const FRAMEWORK = '@activepieces/pieces-framework'
const framework = require(FRAMEWORK)
const frameworkVersion = JSON.parse(readFileSync(require.resolve(`${FRAMEWORK}/package.json`), 'utf8')).version
if (frameworkVersion !== pkg.dependencies[FRAMEWORK]) {
    throw new Error(`installed ${FRAMEWORK}@${frameworkVersion} but package.json pins ${pkg.dependencies[FRAMEWORK]}: run npm ci first`)
}

function pieceOf(module) {
    const found = Object.values(module).filter((value) => value !== null && typeof value === 'object' && typeof value.metadata === 'function')
    if (found.length !== 1) {
        throw new Error(`expected one exported Piece, found ${found.length}`)
    }
    return found[0]
}

// When the pinned version was published: the piece's `created` and `updated` (what the real server's
// catalogue records when it syncs a version), asked of the registry the pins came from.
function publishedAt(name, version) {
    const times = JSON.parse(execFileSync('npm', ['view', name, 'time', '--json'], { encoding: 'utf8' }))
    if (typeof times[version] !== 'string') {
        throw new Error(`the registry has no publish time for ${name}@${version}`)
    }
    return new Date(times[version]).toISOString()
}

// A JSON copy: what the real server stores and serves (functions and undefined fields are dropped).
const plain = (value) => JSON.parse(JSON.stringify(value))

const pieces = []
const unfit = []
for (const name of Object.keys(pkg.dependencies).filter((dep) => dep.startsWith('@activepieces/piece-'))) {
    const manifest = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8'))
    if (manifest.version !== pkg.dependencies[name]) {
        throw new Error(`installed ${name}@${manifest.version} but package.json pins ${pkg.dependencies[name]}`)
    }
    const metadata = plain(pieceOf(require(name)).metadata())
    const published = publishedAt(name, manifest.version)
    const piece = {
        name,
        displayName: metadata.displayName,
        logoUrl: metadata.logoUrl,
        description: metadata.description ?? '',
        authors: metadata.authors ?? [],
        auth: metadata.auth,
        version: manifest.version,
        categories: metadata.categories ?? [],
        minimumSupportedRelease: metadata.minimumSupportedRelease ?? '0.0.0',
        maximumSupportedRelease: metadata.maximumSupportedRelease ?? '999.999.999',
        actions: metadata.actions ?? {},
        triggers: metadata.triggers ?? {},
    }
    const checked = framework.PieceMetadata.safeParse(piece)
    if (!checked.success) {
        const where = [...new Set(checked.error.issues.map((issue) => issue.path.slice(0, 2).join('.')))]
        unfit.push(`${name}@${manifest.version} (${where.slice(0, 3).join(', ')}${where.length > 3 ? ', ...' : ''})`)
    }
    pieces.push({ ...plain(piece), created: published, updated: published })
}
pieces.sort((a, b) => a.name.localeCompare(b.name))

const snapshot = {
    source: `${FRAMEWORK}@${frameworkVersion}`,
    pieces,
}
writeFileSync(join(here, 'pieces.json.gz'), gzipSync(JSON.stringify(snapshot), { level: 9 }))
if (unfit.length > 0) {
    console.log(`kept as published, not fitting ${FRAMEWORK}@${frameworkVersion} PieceMetadata: ${unfit.length}`)
    for (const line of unfit) console.log(`  ${line}`)
}
console.log(`exported ${pieces.length} pieces (${pieces.reduce((n, p) => n + Object.keys(p.actions).length, 0)} actions, ${pieces.reduce((n, p) => n + Object.keys(p.triggers).length, 0)} triggers)`)
