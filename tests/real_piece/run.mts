// Runs actions of the real "Activepieces Platform" piece from its own source in .piece-src/ (copied there
// by tests/real_piece/piece.py; never committed), as a flow step would run them:
//
//     node --import tsx run.mts '<request JSON>'
//
// where the request is {"baseApiUrl", "apiKey", "calls": [{"action", "props"}, ...]}. Only this entry is
// ours: it loads the piece's exported Piece, builds the connection value the engine hands an action of a
// CUSTOM_AUTH piece ({type: "CUSTOM_AUTH", props}), and runs each named action with the given props in
// turn. It prints one JSON array: per call {"output"} or, when the action throws, {"error"} (the
// piece's http client throws on any status >= 400, with the response in its message).
const PIECE_ENTRY = './.piece-src/src/index.ts';

type Call = { action: string; props: Record<string, unknown> };
type Request = { baseApiUrl: string; apiKey: string; calls: Call[] };
type ActionLike = { run: (context: unknown) => Promise<unknown> };
type PieceLike = { metadata: () => unknown; getAction: (name: string) => ActionLike | undefined };

const request = JSON.parse(process.argv[2] ?? '{}') as Request;
const module = (await import(PIECE_ENTRY)) as Record<string, unknown>;
const pieces = Object.values(module).filter(
    (value): value is PieceLike => value !== null && typeof value === 'object' && typeof (value as PieceLike).metadata === 'function',
);
if (pieces.length !== 1) {
    console.error(`expected one exported Piece in ${PIECE_ENTRY}, found ${pieces.length}`);
    process.exit(65);
}
const piece = pieces[0];
const auth = { type: 'CUSTOM_AUTH', props: { baseApiUrl: request.baseApiUrl, apiKey: request.apiKey } };

const results: Array<{ output: unknown } | { error: string }> = [];
for (const call of request.calls) {
    const action = piece.getAction(call.action);
    if (action === undefined) {
        results.push({ error: `the piece has no action ${call.action}` });
        continue;
    }
    try {
        const output = await action.run({
            auth,
            propsValue: call.props,
            // What the custom API call reads when a response is binary; these calls never are.
            files: { write: async () => { throw new Error('no file store in this runner'); } },
        });
        results.push({ output: output ?? null });
    } catch (e) {
        results.push({ error: e instanceof Error ? e.message : String(e) });
    }
}
process.stdout.write(JSON.stringify(results) + '\n');
