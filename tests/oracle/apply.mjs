// The differential oracle: the real step logic of Activepieces (`flowOperations.apply` from the
// published @activepieces/shared), driven over stdin/stdout by tests/test_flow_oracle.py.
//
// One JSON object per line in: {"flowVersion": {...}, "operation": {"type", "request"}}.
// One JSON object per line out:
//   {"ok": true, "version": {...}}                    the version the real server would store
//   {"ok": false, "rejected": [...]}                  the real request schema refuses the operation
//   {"ok": false, "error": {"code", "params", "message"}}   the real function threw
//
// Besides `flowOperations.apply`, it does what the real server does around it for one operation
// (packages/server/api/src/app/flows/flow-version/flow-version.service.ts, applyOperation, and
// flow-version-validator-util.ts, prepareRequest): the request is parsed with the real zod schema
// (unknown keys dropped), `valid` of an added or updated step is decided by the real settings
// validators, and `connectionIds` is recomputed. A piece step's props can only be checked against
// the piece's metadata, which the oracle does not have: it treats every piece as existing with no
// required props (valid when pieceName, pieceVersion, actionName/triggerName and input are set).
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'

const require = createRequire(import.meta.url)
const shared = require('@activepieces/shared')
// The zod instance the shared package's schemas were built with.
const { z } = createRequire(require.resolve('@activepieces/shared'))('zod')

const loopSettings = shared.LoopOnItemsActionSettings.and(z.object({ items: z.string().min(1) }))
const codeSettings = shared.CodeActionSettings.and(z.object({
    sourceCode: shared.SourceCode.and(z.object({ code: z.string().min(1), packageJson: z.string().min(1) })),
}))
const routerSettings = shared.RouterActionSettingsWithValidation
// The members of the FlowOperationRequest union by their `type`: only the member of an operation's
// type can accept it (the types are distinct literals), so parsing with it alone decides the same
// as the whole union, without trying the other 25 first.
const requestByType = new Map(shared.FlowOperationRequest.options.map((member) => [member.shape.type.value, member]))

const isNil = (value) => value === null || value === undefined

function pieceStepValid(settings, nameKey) {
    return !isNil(settings.pieceName) && !isNil(settings.pieceVersion) && !isNil(settings[nameKey])
        && !isNil(settings.input) && settings.pieceName !== '' && settings[nameKey] !== ''
}

function actionValid(action) {
    switch (action.type) {
        case 'LOOP_ON_ITEMS': return loopSettings.safeParse(action.settings).success
        case 'ROUTER': return routerSettings.safeParse(action.settings).success
        case 'CODE': return codeSettings.safeParse(action.settings).success
        case 'PIECE': return pieceStepValid(action.settings, 'actionName')
        default: return false
    }
}

function prepare(operation) {
    const request = operation.request
    switch (operation.type) {
        case 'ADD_ACTION':
            request.action.valid = actionValid(request.action)
            break
        case 'UPDATE_ACTION':
            request.valid = actionValid(request)
            break
        case 'UPDATE_TRIGGER':
            request.valid = request.type === 'EMPTY' ? false : pieceStepValid(request.settings, 'triggerName')
            break
        case 'ADD_NOTE':
            // An API key is no user: the note it adds belongs to nobody (null, as imported ones).
            request.ownerId = null
            break
        case 'IMPORT_FLOW':
            // An API key is no user: imported notes belong to nobody.
            if (!isNil(request.notes)) {
                request.notes = request.notes.map((note) => ({ ...note, ownerId: null }))
            }
            break
    }
    return operation
}

function handle(line) {
    const { flowVersion, operation } = JSON.parse(line)
    const parsed = (requestByType.get(operation?.type) ?? shared.FlowOperationRequest).safeParse(operation)
    if (!parsed.success) {
        return { ok: false, rejected: parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message })) }
    }
    try {
        const version = shared.flowOperations.apply(flowVersion, prepare(parsed.data))
        version.connectionIds = shared.flowStructureUtil.extractConnectionIds(version)
        return { ok: true, version }
    }
    catch (error) {
        return { ok: false, error: { code: error?.error?.code ?? null, params: error?.error?.params ?? null, message: String(error?.message ?? error) } }
    }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
    if (line.trim() === '') continue
    let answer
    try {
        answer = handle(line)
    }
    catch (error) {
        answer = { ok: false, error: { code: 'ORACLE_CRASH', params: null, message: String(error?.stack ?? error) } }
    }
    process.stdout.write(JSON.stringify(answer) + '\n')
}
