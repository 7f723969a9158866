// Exports the real Activepieces schemas this API uses (from the published @activepieces/shared, zod 4)
// to JSON Schema files committed beside this script, so the test suite validates with no node and no
// network. Run by hand when the pin in package.json moves:
//
//     cd tests/real_schemas && npm ci && node export.mjs
//
// Every file records the package and version it came from; manifest.json lists them all.
import { readFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const shared = require('@activepieces/shared')
// The piece metadata shapes (PieceMetadataModel, ...) live in the framework package, pinned beside shared.
const FRAMEWORK = '@activepieces/pieces-framework'
const framework = require(FRAMEWORK)
const frameworkVersion = JSON.parse(readFileSync(require.resolve(`${FRAMEWORK}/package.json`), 'utf8')).version
const { z } = require('zod')

const here = dirname(fileURLToPath(import.meta.url))
const PACKAGE = '@activepieces/shared'
const version = JSON.parse(readFileSync(require.resolve(`${PACKAGE}/package.json`), 'utf8')).version
const zodVersion = JSON.parse(readFileSync(require.resolve('zod/package.json'), 'utf8')).version
const pinned = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).dependencies[PACKAGE]
if (version !== pinned) {
    throw new Error(`installed ${PACKAGE}@${version} but package.json pins ${pinned}: run npm ci first`)
}

// name -> [zod schema, where this API uses it]
const schemas = {
    // Projects (platform-project-controller.ts)
    ProjectWithLimits: [shared.ProjectWithLimits, 'response of GET/POST /v1/projects/:id, POST /v1/projects'],
    SeekPageProjectWithLimits: [shared.SeekPage(shared.ProjectWithLimits), 'response of GET /v1/projects'],
    CreatePlatformProjectRequest: [shared.CreatePlatformProjectRequest, 'body of POST /v1/projects'],
    UpdateProjectPlatformRequest: [shared.UpdateProjectPlatformRequest, 'body of POST /v1/projects/:id'],
    ListProjectRequestForPlatformQueryParams: [shared.ListProjectRequestForPlatformQueryParams, 'query of GET /v1/projects'],
    // Flows (flow.controller.ts)
    PopulatedFlow: [shared.PopulatedFlow, 'response of POST /v1/flows, GET/POST /v1/flows/:id'],
    SeekPagePopulatedFlow: [shared.SeekPage(shared.PopulatedFlow), 'response of GET /v1/flows'],
    Flow: [shared.Flow, 'the flow part of PopulatedFlow'],
    FlowVersion: [shared.FlowVersion, 'the version part of PopulatedFlow'],
    FlowAction: [shared.FlowAction, 'a step of a step tree'],
    FlowTrigger: [shared.FlowTrigger, 'the root of a step tree'],
    FlowOperationRequest: [shared.FlowOperationRequest, 'body of POST /v1/flows/:id'],
    CreateFlowRequest: [shared.CreateFlowRequest, 'body of POST /v1/flows'],
    ListFlowsRequest: [shared.ListFlowsRequest, 'query of GET /v1/flows'],
    CountFlowsRequest: [shared.CountFlowsRequest, 'query of GET /v1/flows/count'],
    GetFlowQueryParamsRequest: [shared.GetFlowQueryParamsRequest, 'query of GET /v1/flows/:id'],
    SharedTemplate: [shared.SharedTemplate, 'response of GET /v1/flows/:id/template'],
    SeekPageFlowVersionMetadata: [shared.SeekPage(shared.FlowVersionMetadata), 'response of GET /v1/flows/:id/versions (flow-version.controller.ts)'],
    // Folders (folder.module.ts). FolderDto is a type in the package (Folder & {numberOfFlows, numberOfTables}): built here from Folder.
    Folder: [shared.Folder, 'the folder part of FolderDto'],
    FolderDto: [shared.Folder.extend({ numberOfFlows: z.number(), numberOfTables: z.number() }), 'response of POST /v1/folders, GET/POST /v1/folders/:id'],
    SeekPageFolderDto: [shared.SeekPage(shared.Folder.extend({ numberOfFlows: z.number(), numberOfTables: z.number() })), 'response of GET /v1/folders'],
    CreateFolderRequest: [shared.CreateFolderRequest, 'body of POST /v1/folders'],
    UpdateFolderRequest: [shared.UpdateFolderRequest, 'body of POST /v1/folders/:id'],
    ListFolderRequest: [shared.ListFolderRequest, 'query of GET /v1/folders'],
    // Global connections (global-connection-module.ts)
    UpsertGlobalConnectionRequestBody: [shared.UpsertGlobalConnectionRequestBody, 'body of POST /v1/global-connections'],
    UpdateGlobalConnectionValueRequestBody: [shared.UpdateGlobalConnectionValueRequestBody, 'body of POST /v1/global-connections/:id'],
    ListGlobalConnectionsRequestQuery: [shared.ListGlobalConnectionsRequestQuery, 'query of GET /v1/global-connections'],
    AppConnectionWithoutSensitiveData: [shared.AppConnectionWithoutSensitiveData, 'response of POST /v1/global-connections(/:id)'],
    SeekPageAppConnectionWithoutSensitiveData: [shared.SeekPage(shared.AppConnectionWithoutSensitiveData), 'response of GET /v1/global-connections'],
    // Platforms (platform.controller.ts)
    PlatformWithoutSensitiveData: [shared.PlatformWithoutSensitiveData, 'response of GET /v1/platforms/:id'],
    // Flags (flag.module.ts: a map of ApFlagId to its value; the values have no schema of their own)
    Flags: [z.partialRecord(z.enum(shared.ApFlagId), z.unknown()), 'response of GET /v1/flags'],
    // Platform users (platform-user-controller.ts)
    UserWithMetaInformation: [shared.UserWithMetaInformation, 'response of POST /v1/users/:id'],
    SeekPageUserWithMetaInformation: [shared.SeekPage(shared.UserWithMetaInformation), 'response of GET /v1/users'],
    UpdateUserRequestBody: [shared.UpdateUserRequestBody, 'body of POST /v1/users/:id'],
    ListUsersRequestBody: [shared.ListUsersRequestBody, 'query of GET /v1/users'],
    // Pieces (piece-metadata-controller.ts, ee/pieces/platform-piece-module.ts, pieces/tags/tags-module.ts)
    PieceMetadataModel: [framework.PieceMetadataModel, 'response of GET /v1/pieces/:name and /v1/pieces/:scope/:name', FRAMEWORK],
    PieceMetadataModelSummaryList: [z.array(framework.PieceMetadataModelSummary), 'response of GET /v1/pieces', FRAMEWORK],
    PiecePackageInformationList: [z.array(framework.PiecePackageInformation), 'response of GET /v1/pieces/registry', FRAMEWORK],
    ListPiecesRequestQuery: [shared.ListPiecesRequestQuery, 'query of GET /v1/pieces'],
    GetPieceRequestQuery: [shared.GetPieceRequestQuery, 'query of GET /v1/pieces/:name'],
    RegistryPiecesRequestQuery: [shared.RegistryPiecesRequestQuery, 'query of GET /v1/pieces/registry'],
    AddPieceRequestBody: [shared.AddPieceRequestBody, 'body of POST /v1/pieces'],
    SetPieceTagsRequest: [shared.SetPieceTagsRequest, 'body of POST /v1/tags/pieces'],
    PieceCategoryList: [z.array(z.enum(shared.PieceCategory)), 'response of GET /v1/pieces/categories'],
    // Project connections (app-connection.controller.ts)
    UpsertAppConnectionRequestBody: [shared.UpsertAppConnectionRequestBody, 'body of POST /v1/app-connections'],
    UpdateConnectionValueRequestBody: [shared.UpdateConnectionValueRequestBody, 'body of POST /v1/app-connections/:id'],
    ListAppConnectionsRequestQuery: [shared.ListAppConnectionsRequestQuery, 'query of GET /v1/app-connections'],
    ListAppConnectionOwnersRequestQuery: [shared.ListAppConnectionOwnersRequestQuery, 'query of GET /v1/app-connections/owners'],
    ReplaceAppConnectionsRequestBody: [shared.ReplaceAppConnectionsRequestBody, 'body of POST /v1/app-connections/replace'],
    SeekPageAppConnectionOwners: [shared.SeekPage(shared.AppConnectionOwners), 'response of GET /v1/app-connections/owners'],
    // Project roles (project-role.controller.ts)
    ProjectRole: [shared.ProjectRole, 'response of GET /v1/project-roles/:id, POST /v1/project-roles(/:id)'],
    SeekPageProjectRole: [shared.SeekPage(shared.ProjectRole), 'response of GET /v1/project-roles'],
    CreateProjectRoleRequestBody: [shared.CreateProjectRoleRequestBody, 'body of POST /v1/project-roles'],
    UpdateProjectRoleRequestBody: [shared.UpdateProjectRoleRequestBody, 'body of POST /v1/project-roles/:id'],
    ListProjectMembersForProjectRoleRequestQuery: [shared.ListProjectMembersForProjectRoleRequestQuery, 'query of GET /v1/project-roles/:id/project-members'],
    // Project members (project-member.controller.ts)
    ProjectMember: [shared.ProjectMember, 'response of POST /v1/project-members/:id'],
    ProjectMemberWithUser: [shared.ProjectMemberWithUser, 'an item of the member lists'],
    SeekPageProjectMemberWithUser: [shared.SeekPage(shared.ProjectMemberWithUser), 'response of GET /v1/project-members, GET /v1/project-roles/:id/project-members'],
    UpdateProjectMemberRoleRequestBody: [shared.UpdateProjectMemberRoleRequestBody, 'body of POST /v1/project-members/:id'],
    ListProjectMembersRequestQuery: [shared.ListProjectMembersRequestQuery, 'query of GET /v1/project-members'],
    // User invitations (user-invitation.module.ts)
    UserInvitation: [shared.UserInvitation, 'an item of GET /v1/user-invitations'],
    UserInvitationWithLink: [shared.UserInvitationWithLink, 'response of POST /v1/user-invitations'],
    SendUserInvitationRequest: [shared.SendUserInvitationRequest, 'body of POST /v1/user-invitations'],
    ListUserInvitationsRequest: [shared.ListUserInvitationsRequest, 'query of GET /v1/user-invitations'],
    SeekPageUserInvitation: [shared.SeekPage(shared.UserInvitation), 'response of GET /v1/user-invitations'],
    // Errors (every route)
    ErrorCode: [z.enum(shared.ErrorCode), 'the code of every error body'],
}

// io 'input': both sides of this API are *parsed* by these zod schemas — the real server parses the
// request bodies, and a real client parses the responses with the same schemas (PopulatedFlow.parse...)
// — so the input side is the contract: fields with defaults are optional, and a preprocess/transform is
// described by what it accepts rather than what it produces.
// unrepresentable 'any': a few leaves have no JSON Schema form (z.custom, dates); they become `{}`
// (accept anything) instead of aborting the whole export; the rest of the schema still checks.
// cycles 'ref' (the default): step trees are recursive (nextAction, firstLoopAction, children) and
// become $defs + $ref; reused 'ref' makes shared subtrees one definition.
// target draft-2020-12: what the Python side (jsonschema + referencing) validates with.
const options = { io: 'input', unrepresentable: 'any', cycles: 'ref', reused: 'inline', target: 'draft-2020-12' }

const out = join(here, 'schemas')
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const manifest = { package: PACKAGE, version, zod: zodVersion, options, LATEST_FLOW_SCHEMA_VERSION: shared.LATEST_FLOW_SCHEMA_VERSION, schemas: {} }
const versions = { [PACKAGE]: version, [FRAMEWORK]: frameworkVersion }
manifest.packages = versions
for (const [name, [schema, usedFor, from = PACKAGE]] of Object.entries(schemas)) {
    if (schema === undefined) {
        throw new Error(`${from}@${versions[from]} no longer exports the schema for ${name}`)
    }
    const json = z.toJSONSchema(schema, options)
    const file = `${name}.json`
    const document = { $id: `https://openpieces.local/real-schemas/${file}`, 'x-source': `${from}@${versions[from]}`, 'x-used-for': usedFor, ...json }
    writeFileSync(join(out, file), JSON.stringify(document, null, 2) + '\n')
    manifest.schemas[name] = { file: `schemas/${file}`, usedFor, source: `${from}@${versions[from]}` }
}
writeFileSync(join(here, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
console.log(`exported ${Object.keys(schemas).length} schemas from ${PACKAGE}@${version} and ${FRAMEWORK}@${frameworkVersion} (zod ${zodVersion})`)
