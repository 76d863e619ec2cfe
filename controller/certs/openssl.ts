// The controller's certificate authority, run with the openssl CLI (OpenSSL 3.0 or later,
// which accepts `req -x509 -CA`). Keys are ECDSA P-256, generated in a private temporary
// folder and renamed into place, so no other user can read a key and a crash never leaves
// half a pair.
import { execFile } from "node:child_process";
import { access, chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { isValidNodeName, organizationFor, type ClientRole } from "./subject.ts";

const run = promisify(execFile);

export const CA_CERT_FILE = "ca.crt";
export const CA_KEY_FILE = "ca.key";
export const SERVER_CERT_FILE = "server.crt";
export const SERVER_KEY_FILE = "server.key";
/** File names written by issueClientCertificate into its output folder. */
export const CLIENT_CERT_FILE = "client.crt";
export const CLIENT_KEY_FILE = "client.key";

export const CertificateErrorCode = {
  opensslFailed: "CERT_OPENSSL_FAILED",
  caKeyMissing: "CERT_CA_KEY_MISSING",
  invalidName: "CERT_INVALID_NAME",
} as const;
export type CertificateErrorCode = (typeof CertificateErrorCode)[keyof typeof CertificateErrorCode];

export class CertificateError extends Error {
  readonly code: CertificateErrorCode;

  constructor(code: CertificateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CertificateError";
    this.code = code;
  }
}

export interface ServerCredentials {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Files created by this call, empty when everything already existed. */
  readonly generated: readonly string[];
}

/** The smallest openssl config `req` accepts; keeps the system openssl.cnf extensions out. */
const MINIMAL_CONFIG = "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n";

/**
 * Loads the CA and server certificate from `dir`, creating the CA and then the server
 * certificate when their files are absent. Idempotent: existing files are never replaced.
 * Throws CertificateError CERT_CA_KEY_MISSING when a server certificate must be issued
 * but only ca.crt exists.
 */
export async function ensureServerCredentials(options: {
  dir: string;
  serverNames: readonly string[];
  caValidityDays: number;
  certValidityDays: number;
}): Promise<ServerCredentials> {
  const { dir } = options;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const generated: string[] = [];
  if (!(await exists(join(dir, CA_CERT_FILE)))) {
    await createCa({ dir, validityDays: options.caValidityDays });
    generated.push(CA_CERT_FILE, CA_KEY_FILE);
  }
  if (!(await exists(join(dir, SERVER_CERT_FILE))) || !(await exists(join(dir, SERVER_KEY_FILE)))) {
    await requireCaKey(dir);
    await issue({
      caDir: dir,
      outDir: dir,
      certFile: SERVER_CERT_FILE,
      keyFile: SERVER_KEY_FILE,
      subject: "/CN=switchyard-controller",
      extensions: ["extendedKeyUsage=serverAuth", `subjectAltName=${options.serverNames.map(altName).join(",")}`],
      validityDays: options.certValidityDays,
    });
    generated.push(SERVER_CERT_FILE, SERVER_KEY_FILE);
  }
  const [ca, cert, key] = await Promise.all([
    readFile(join(dir, CA_CERT_FILE)),
    readFile(join(dir, SERVER_CERT_FILE)),
    readFile(join(dir, SERVER_KEY_FILE)),
  ]);
  return { ca, cert, key, generated };
}

/**
 * Issues a client certificate signed by the CA in `caDir` and writes client.crt,
 * client.key and a copy of ca.crt into `outDir`. A node certificate's CN is the node name;
 * the O field carries the role. Replaces an earlier certificate in outDir.
 */
export async function issueClientCertificate(options: {
  caDir: string;
  outDir: string;
  role: ClientRole;
  name: string;
  validityDays: number;
}): Promise<void> {
  if (!isValidNodeName(options.name)) {
    throw new CertificateError(
      CertificateErrorCode.invalidName,
      `invalid ${options.role} name ${JSON.stringify(options.name)}: use a lowercase RFC 1123 name such as worker-1`,
    );
  }
  await requireCaKey(options.caDir);
  await mkdir(options.outDir, { recursive: true, mode: 0o700 });
  await issue({
    caDir: options.caDir,
    outDir: options.outDir,
    certFile: CLIENT_CERT_FILE,
    keyFile: CLIENT_KEY_FILE,
    subject: `/O=${organizationFor(options.role)}/CN=${options.name}`,
    extensions: ["extendedKeyUsage=clientAuth"],
    validityDays: options.validityDays,
  });
  await writeFile(join(options.outDir, CA_CERT_FILE), await readFile(join(options.caDir, CA_CERT_FILE)));
}

async function createCa(options: { dir: string; validityDays: number }): Promise<void> {
  await inPrivateTemp(async (temp) => {
    const config = await writeConfig(temp);
    await openssl([
      "req", "-config", config, "-x509", "-new",
      "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc",
      "-keyout", join(temp, CA_KEY_FILE), "-out", join(temp, CA_CERT_FILE),
      "-days", String(options.validityDays), "-subj", "/CN=switchyard-controller-ca",
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    await moveInto({ temp, dir: options.dir, files: [CA_KEY_FILE, CA_CERT_FILE] });
  });
}

async function issue(options: {
  caDir: string;
  outDir: string;
  certFile: string;
  keyFile: string;
  subject: string;
  extensions: readonly string[];
  validityDays: number;
}): Promise<void> {
  await inPrivateTemp(async (temp) => {
    const config = await writeConfig(temp);
    const extensionArgs = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", ...options.extensions].flatMap((e) => ["-addext", e]);
    await openssl([
      "req", "-config", config, "-x509", "-new",
      "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc",
      "-keyout", join(temp, options.keyFile), "-out", join(temp, options.certFile),
      "-CA", join(options.caDir, CA_CERT_FILE), "-CAkey", join(options.caDir, CA_KEY_FILE),
      "-days", String(options.validityDays), "-subj", options.subject,
      ...extensionArgs,
    ]);
    await moveInto({ temp, dir: options.outDir, files: [options.keyFile, options.certFile] });
  });
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run("openssl", args, { timeout: 60_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? "";
    throw new CertificateError(
      CertificateErrorCode.opensslFailed,
      `openssl ${args[0] ?? ""} failed${stderr === "" ? "" : `: ${stderr}`}; check that OpenSSL 3.0 or later is on PATH`,
      { cause: error },
    );
  }
}

async function inPrivateTemp(work: (temp: string) => Promise<void>): Promise<void> {
  const temp = await mkdtemp(join(tmpdir(), "switchyard-certs-"));
  try {
    await work(temp);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

async function writeConfig(temp: string): Promise<string> {
  const path = join(temp, "openssl.cnf");
  await writeFile(path, MINIMAL_CONFIG);
  return path;
}

/** Renames files from the temporary folder; a cross-device rename falls back to copy. */
async function moveInto(options: { temp: string; dir: string; files: readonly string[] }): Promise<void> {
  for (const file of options.files) {
    const source = join(options.temp, file);
    const target = join(options.dir, file);
    await chmod(source, file.endsWith(".key") ? 0o600 : 0o644);
    try {
      await rename(source, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
      const staged = `${target}.tmp-${process.pid}`;
      await writeFile(staged, await readFile(source), { mode: file.endsWith(".key") ? 0o600 : 0o644 });
      await rename(staged, target);
    }
  }
}

async function requireCaKey(dir: string): Promise<void> {
  if (await exists(join(dir, CA_KEY_FILE))) return;
  throw new CertificateError(
    CertificateErrorCode.caKeyMissing,
    `cannot issue a certificate: ${join(dir, CA_KEY_FILE)} is missing; restore the CA key or remove ${join(dir, CA_CERT_FILE)} to create a new CA`,
  );
}

function altName(name: string): string {
  return isIP(name) === 0 ? `DNS:${name}` : `IP:${name}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
