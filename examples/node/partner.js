// A Kring partner in Node.js: the partner gRPC API (kring.v1.Federation) with @grpc/grpc-js and
// @grpc/proto-loader, loaded straight from proto/kring/v1/federation.proto.
//
//   npm ci
//   KRING_PARTNER_KEY=kpk_... KRING_NETWORK_ID=<one of your networks> node partner.js
//
// Environment: KRING_GRPC_TARGET (host:port, default 127.0.0.1:50051), KRING_PARTNER_KEY (the key the operator
// registered you with: POST /v1/partners), KRING_NETWORK_ID (one of your networks), KRING_CLIENT_OUTPUT_ID
// (your own id for the output this example publishes; default: a new one).
//
// It prints one line per step; tests/e2e/test_partner_examples_e2e.py runs it against a whole stack.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROTO_ROOT = path.join(__dirname, '..', '..', 'proto');
const DEADLINE_MS = 10000;

// keepCase: the fields as the proto names them (network_id); enums as their names (VISIBILITY_LINKED).
const definition = protoLoader.loadSync(path.join(PROTO_ROOT, 'kring', 'v1', 'federation.proto'), {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_ROOT],
});
const kring = grpc.loadPackageDefinition(definition).kring.v1;

// Kring's errors carry google.rpc.Status in the `grpc-status-details-bin` trailer: ErrorInfo (the reason to switch
// on), RequestInfo (the correlation id to quote) and, where fields are named, BadRequest.
const rpcTypes = new protobuf.Root().loadSync([
  path.join(__dirname, 'proto', 'google', 'rpc', 'status.proto'),
  path.join(__dirname, 'proto', 'google', 'rpc', 'error_details.proto'),
], { keepCase: true });
const Status = rpcTypes.lookupType('google.rpc.Status');

function errorDetails(error) {
  const details = {};
  const raw = error.metadata && error.metadata.get('grpc-status-details-bin')[0];
  if (!raw) {
    return details; // refused by the gRPC library itself (FEDERATION.md "Refusals without details")
  }
  for (const any of Status.decode(raw).details) {
    const name = any.type_url.split('/').pop(); // type.googleapis.com/google.rpc.ErrorInfo
    try {
      details[name.replace('google.rpc.', '')] = rpcTypes.lookupType(name).decode(any.value);
    } catch (unknown) {
      // a detail this client does not know: skip it
    }
  }
  return details;
}

function describe(error) {
  const details = errorDetails(error);
  const info = details.ErrorInfo || {};
  const violations = ((details.BadRequest || {}).field_violations || []).map((v) => `${v.field}:${v.reason}`);
  return [grpc.status[error.code], `reason=${info.reason}`, `domain=${info.domain}`,
    `request_id=${(details.RequestInfo || {}).request_id}`, `violations=${violations.join(',')}`].join(' ');
}

function unary(client, method, request, metadata) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + DEADLINE_MS },
      (error, response) => (error ? reject(error) : resolve(response)));
  });
}

async function main() {
  const target = process.env.KRING_GRPC_TARGET || '127.0.0.1:50051';
  const key = process.env.KRING_PARTNER_KEY;
  const networkId = process.env.KRING_NETWORK_ID;
  if (!key || !networkId) {
    throw new Error('set KRING_PARTNER_KEY and KRING_NETWORK_ID');
  }
  const clientOutputId = process.env.KRING_CLIENT_OUTPUT_ID || `example-node-${Date.now()}`;
  const client = new kring.Federation(target, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${key}`);
  metadata.set('x-correlation-id', `example-node-${clientOutputId}`);

  const instance = await unary(client, 'GetInstance', {}, new grpc.Metadata());
  console.log(`instance ${instance.id} ${instance.api_version}`);

  const network = await unary(client, 'GetNetwork', { network_id: networkId }, metadata);
  console.log(`network ${network.id} ${network.level}`);

  const output = {
    network_id: networkId, client_output_id: clientOutputId, kind: 'OUTPUT_KIND_LESSON',
    title: 'Wat we leerden over eenzaamheid', body: 'Vraag eerst wat iemand zelf wil.',
    themes: ['Eenzaamheid'], visibility: 'VISIBILITY_LINKED', authors: ['een ervaringsdeskundige'],
  };
  const published = await unary(client, 'PublishOutput', output, metadata);
  console.log(`published ${published.output_id} recipients=${published.recipients}`);
  const again = await unary(client, 'PublishOutput', output, metadata); // the same client id: nothing new
  console.log(`again ${again.output_id}`);

  const listed = await unary(client, 'ListPublishedOutputs', { network_id: networkId, page_size: 200 }, metadata);
  const mine = listed.outputs.find((o) => (o.output || o.tombstone).output_id === published.output_id);
  console.log(`listed ${published.output_id} ${mine.content} themes=${mine.output.themes.join(',')}`);

  await unary(client, 'RetractOutput', { output_id: published.output_id }, metadata);
  const after = await unary(client, 'ListPublishedOutputs', { network_id: networkId, page_size: 200 }, metadata);
  const gone = after.outputs.find((o) => (o.output || o.tombstone).output_id === published.output_id);
  console.log(`retracted ${published.output_id} ${gone.content}`);

  for (const [what, method, request] of [
    ['unknown', 'GetNetwork', { network_id: 'no-such-network' }],
    ['invalid', 'PublishOutput', { ...output, title: '' }],
  ]) {
    try {
      await unary(client, method, request, metadata);
      console.log(`${what} accepted`);
    } catch (error) {
      console.log(`${what} ${describe(error)}`);
    }
  }
  client.close();
}

main().catch((error) => {
  console.error(`failed: ${error.code !== undefined ? describe(error) : error.message}`);
  process.exit(1);
});
