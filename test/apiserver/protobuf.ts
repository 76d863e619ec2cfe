/**
 * Decoding of the Kubernetes protobuf envelope for the few kinds that
 * kubectl's typed generators send as protobuf: `kubectl create namespace`,
 * `kubectl create serviceaccount` and `kubectl create service ...`.
 *
 * Wire facts: the body is the magic `k8s\0` followed by a runtime.Unknown
 * message (1: TypeMeta {1: apiVersion, 2: kind}, 2: raw object bytes,
 * 3: contentEncoding, 4: contentType). The raw object uses the field
 * numbers of k8s.io/api's generated.proto. Go's proto2 encoder writes every
 * non-pointer field, so empty strings and zeros are dropped here as Go's
 * JSON encoder would drop them with `omitempty`.
 *
 * NOTE: only the fields below are known. A body with any other field is
 * rejected with 415, so nothing is silently lost; such objects must be sent
 * as JSON (`kubectl create -f` or `kubectl apply -f`).
 */

import { ApiStatusError } from "./status.ts";

export const PROTOBUF_MEDIA_TYPE = "application/vnd.kubernetes.protobuf";
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

type FieldKind = "string" | "int" | "bool" | "time" | "map" | "intOrString" | { message: MessageSchema };
interface FieldSpec {
  name: string;
  kind: FieldKind;
  repeated?: boolean;
}
type MessageSchema = { name: string; fields: Record<number, FieldSpec> };

export class ProtobufDecodeError extends Error {
  readonly code = "APISERVER_PROTOBUF_DECODE";
  constructor(message: string) {
    super(message);
    this.name = "ProtobufDecodeError";
  }
}

/** A bounds-checked reader over one protobuf message. */
class ProtoReader {
  private offset = 0;
  private readonly bytes: Buffer;
  private readonly context: string;

  constructor(bytes: Buffer, context: string) {
    this.bytes = bytes;
    this.context = context;
  }

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.offset >= this.bytes.length) {
        throw new ProtobufDecodeError(`truncated varint in ${this.context} at offset ${this.offset}`);
      }
      const byte = this.bytes[this.offset] ?? 0;
      this.offset += 1;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new ProtobufDecodeError(`varint longer than 10 bytes in ${this.context} at offset ${this.offset}`);
    }
  }

  lengthDelimited(): Buffer {
    const length = Number(this.varint());
    if (this.offset + length > this.bytes.length) {
      throw new ProtobufDecodeError(`field of ${length} bytes in ${this.context} at offset ${this.offset} runs past the end (${this.bytes.length} bytes)`);
    }
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_LENGTH_DELIMITED) this.lengthDelimited();
    else if (wireType === WIRE_FIXED64) this.offset += 8;
    else if (wireType === WIRE_FIXED32) this.offset += 4;
    else throw new ProtobufDecodeError(`unsupported wire type ${wireType} in ${this.context}`);
  }
}

const TIME: MessageSchema = { name: "Time", fields: { 1: { name: "seconds", kind: "int" }, 2: { name: "nanos", kind: "int" } } };

const OBJECT_META: MessageSchema = {
  name: "ObjectMeta",
  fields: {
    1: { name: "name", kind: "string" },
    2: { name: "generateName", kind: "string" },
    3: { name: "namespace", kind: "string" },
    4: { name: "selfLink", kind: "string" },
    5: { name: "uid", kind: "string" },
    6: { name: "resourceVersion", kind: "string" },
    7: { name: "generation", kind: "int" },
    8: { name: "creationTimestamp", kind: "time" },
    9: { name: "deletionTimestamp", kind: "time" },
    10: { name: "deletionGracePeriodSeconds", kind: "int" },
    11: { name: "labels", kind: "map" },
    12: { name: "annotations", kind: "map" },
    14: { name: "finalizers", kind: "string", repeated: true },
  },
};

const SERVICE_PORT: MessageSchema = {
  name: "ServicePort",
  fields: {
    1: { name: "name", kind: "string" },
    2: { name: "protocol", kind: "string" },
    3: { name: "port", kind: "int" },
    4: { name: "targetPort", kind: "intOrString" },
    5: { name: "nodePort", kind: "int" },
  },
};

const SERVICE_SPEC: MessageSchema = {
  name: "ServiceSpec",
  fields: {
    1: { name: "ports", kind: { message: SERVICE_PORT }, repeated: true },
    2: { name: "selector", kind: "map" },
    3: { name: "clusterIP", kind: "string" },
    4: { name: "type", kind: "string" },
    7: { name: "sessionAffinity", kind: "string" },
    8: { name: "loadBalancerIP", kind: "string" },
    10: { name: "externalName", kind: "string" },
    11: { name: "externalTrafficPolicy", kind: "string" },
    12: { name: "healthCheckNodePort", kind: "int" },
    13: { name: "publishNotReadyAddresses", kind: "bool" },
  },
};

const EMPTY_LOAD_BALANCER: MessageSchema = { name: "LoadBalancerStatus", fields: {} };

/** Schemas of the top-level kinds, keyed by `<apiVersion>/<kind>`. */
const KINDS: Record<string, MessageSchema> = {
  "v1/Namespace": {
    name: "Namespace",
    fields: {
      1: { name: "metadata", kind: { message: OBJECT_META } },
      2: { name: "spec", kind: { message: { name: "NamespaceSpec", fields: { 1: { name: "finalizers", kind: "string", repeated: true } } } } },
      3: { name: "status", kind: { message: { name: "NamespaceStatus", fields: { 1: { name: "phase", kind: "string" } } } } },
    },
  },
  "v1/ServiceAccount": { name: "ServiceAccount", fields: { 1: { name: "metadata", kind: { message: OBJECT_META } } } },
  "v1/Service": {
    name: "Service",
    fields: {
      1: { name: "metadata", kind: { message: OBJECT_META } },
      2: { name: "spec", kind: { message: SERVICE_SPEC } },
      3: { name: "status", kind: { message: { name: "ServiceStatus", fields: { 1: { name: "loadBalancer", kind: { message: EMPTY_LOAD_BALANCER } } } } } },
    },
  },
};

function unsupported(message: string): ApiStatusError {
  return new ApiStatusError({ code: 415, reason: "UnsupportedMediaType", message: `${message}; this server decodes protobuf only for simple Namespaces, ServiceAccounts and Services, so send the object as JSON (kubectl create -f or apply -f)` });
}

function decodeMap(entries: Buffer[], context: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of entries) {
    const fields = decodeStrings(entry, context);
    result[fields.get(1) ?? ""] = fields.get(2) ?? "";
  }
  return result;
}

function decodeStrings(bytes: Buffer, context: string): Map<number, string> {
  const reader = new ProtoReader(bytes, context);
  const result = new Map<number, string>();
  while (!reader.done) {
    const tag = Number(reader.varint());
    if ((tag & 7) !== WIRE_LENGTH_DELIMITED) {
      throw new ProtobufDecodeError(`expected a string for field ${tag >> 3} in ${context}, got wire type ${tag & 7}`);
    }
    result.set(tag >> 3, reader.lengthDelimited().toString("utf8"));
  }
  return result;
}

function decodeTime(bytes: Buffer): string | undefined {
  const time = decodeMessage(bytes, TIME) as { seconds?: number };
  if (time.seconds === undefined) return undefined;
  return new Date(time.seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function decodeIntOrString(bytes: Buffer): number | string | undefined {
  const value = decodeMessage(bytes, { name: "IntOrString", fields: { 1: { name: "type", kind: "int" }, 2: { name: "intVal", kind: "int" }, 3: { name: "strVal", kind: "string" } } }) as {
    type?: number;
    intVal?: number;
    strVal?: string;
  };
  if (value.type === 1) return value.strVal;
  return value.intVal;
}

function decodeScalar(spec: FieldSpec, wireType: number, reader: ProtoReader, context: string): unknown {
  const kind = spec.kind;
  if (kind === "int" || kind === "bool") {
    if (wireType !== WIRE_VARINT) throw new ProtobufDecodeError(`expected a varint for ${context}.${spec.name}, got wire type ${wireType}`);
    const raw = reader.varint();
    return kind === "bool" ? raw !== 0n : Number(BigInt.asIntN(64, raw));
  }
  if (wireType !== WIRE_LENGTH_DELIMITED) throw new ProtobufDecodeError(`expected a length-delimited value for ${context}.${spec.name}, got wire type ${wireType}`);
  const bytes = reader.lengthDelimited();
  if (kind === "string") return bytes.toString("utf8");
  if (kind === "time") return decodeTime(bytes);
  if (kind === "intOrString") return decodeIntOrString(bytes);
  if (kind === "map") return bytes;
  return decodeMessage(bytes, kind.message);
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === "" || value === 0 || value === false;
}

/** Decodes one message into JSON field names, dropping empty scalars. Throws 415 for a field the schema lacks. */
function decodeMessage(bytes: Buffer, schema: MessageSchema): Record<string, unknown> {
  const reader = new ProtoReader(bytes, schema.name);
  const result: Record<string, unknown> = {};
  const mapEntries = new Map<string, Buffer[]>();
  while (!reader.done) {
    const tag = Number(reader.varint());
    const fieldNumber = tag >> 3;
    const wireType = tag & 7;
    const spec = schema.fields[fieldNumber];
    if (spec === undefined) {
      throw unsupported(`protobuf field ${fieldNumber} of ${schema.name} is not supported`);
    }
    const value = decodeScalar(spec, wireType, reader, schema.name);
    if (spec.kind === "map") {
      const list = mapEntries.get(spec.name) ?? [];
      list.push(value as Buffer);
      mapEntries.set(spec.name, list);
    } else if (spec.repeated === true) {
      const list = (result[spec.name] as unknown[] | undefined) ?? [];
      list.push(value);
      result[spec.name] = list;
    } else if (!isEmpty(value)) {
      result[spec.name] = value;
    }
  }
  for (const [name, entries] of mapEntries) {
    result[name] = decodeMap(entries, `${schema.name}.${name}`);
  }
  return result;
}

const TYPE_META: MessageSchema = { name: "TypeMeta", fields: { 1: { name: "apiVersion", kind: "string" }, 2: { name: "kind", kind: "string" } } };

/** Splits a runtime.Unknown envelope into its TypeMeta and raw object bytes; encoding fields 3 and 4 are skipped. */
function readEnvelope(envelope: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  const reader = new ProtoReader(envelope, "Unknown");
  let typeMeta: { apiVersion?: string; kind?: string } = {};
  let raw: Buffer | undefined;
  while (!reader.done) {
    const tag = Number(reader.varint());
    if (tag === ((1 << 3) | WIRE_LENGTH_DELIMITED)) {
      typeMeta = decodeMessage(reader.lengthDelimited(), TYPE_META);
    } else if (tag === ((2 << 3) | WIRE_LENGTH_DELIMITED)) {
      raw = reader.lengthDelimited();
    } else {
      reader.skip(tag & 7);
    }
  }
  if (raw === undefined) {
    throw new ProtobufDecodeError("the envelope has no raw object (field 2)");
  }
  return { apiVersion: typeMeta.apiVersion ?? "", kind: typeMeta.kind ?? "", raw };
}

/**
 * Decodes a protobuf request body into the JSON object it encodes.
 * Throws 400 for a malformed body and 415 for a kind or field this
 * server does not decode.
 */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ApiStatusError({ code: 400, reason: "BadRequest", message: "the protobuf body does not start with the Kubernetes magic bytes k8s\\0" });
  }
  try {
    const envelope = readEnvelope(body.subarray(MAGIC.length));
    const key = `${envelope.apiVersion}/${envelope.kind}`;
    const schema = KINDS[key];
    if (schema === undefined) {
      throw unsupported(`protobuf bodies of ${key} are not supported`);
    }
    return { apiVersion: envelope.apiVersion, kind: envelope.kind, ...decodeMessage(envelope.raw, schema) };
  } catch (error) {
    if (error instanceof ProtobufDecodeError) {
      throw new ApiStatusError({ code: 400, reason: "BadRequest", message: `the protobuf body is malformed: ${error.message}`, cause: error });
    }
    throw error;
  }
}
