import type { S3Client } from '@aws-sdk/client-s3';
import { UserError } from '../errors.js';

/** Where an S3 bucket is and how to reach it; every field is optional, the AWS SDK's usual sources fill the rest. */
export interface S3Settings {
  /** A non-AWS server (MinIO, Ceph, R2); else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL. */
  endpoint_url?: string;
  region?: string;
  /** A profile in ~/.aws/credentials and ~/.aws/config; else AWS_PROFILE. */
  profile?: string;
  /** Path-style URLs (`endpoint/bucket/key`); default: on for a custom endpoint, off for AWS. */
  path_style?: boolean;
  /** Keys written in DVC's `.dvc/config.local` (never in pipeline.yaml); else the SDK's chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface S3Location {
  bucket: string;
  /** Key prefix without a trailing slash; '' for the bucket's root. */
  prefix: string;
}

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url);
  if (!match || !match[1]) throw new UserError(`"${url}" is not an S3 URL: expected s3://bucket[/prefix]`);
  return { bucket: match[1], prefix: match[2]!.replace(/\/+$/, '') };
}

/**
 * One client per endpoint: credentials and region come from the SDK's chain (environment,
 * ~/.aws/credentials and config, SSO, instance roles), so what works with the AWS CLI works here.
 */
/** The SDK is loaded on first use: most runs never touch S3, and it costs start-up time. */
export type S3Sdk = typeof import('@aws-sdk/client-s3');
export const loadS3Sdk = (): Promise<S3Sdk> => import('@aws-sdk/client-s3');

/** Where requests go, from the settings and the SDK's environment variables. */
export function s3Endpoint(settings: S3Settings): { endpoint?: string; custom: boolean; region?: string; label: string } {
  const endpoint = settings.endpoint_url ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const custom = endpoint !== undefined && !/\.amazonaws\.com(\.cn)?(\/|$)/.test(endpoint);
  const region = settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (custom ? 'us-east-1' : undefined);
  return { ...(endpoint ? { endpoint } : {}), custom, ...(region ? { region } : {}), label: endpoint ?? `AWS S3 (${region ?? 'region from ~/.aws/config'})` };
}

export async function makeS3Client(settings: S3Settings, maxSockets = 16): Promise<{ client: S3Client; sdk: S3Sdk }> {
  // The SDK is pinned to a release that supports node 20 (package.json); its notice that later
  // releases will not is for the SDK's own users, not for a researcher running pipeline.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await loadS3Sdk();
  const { endpoint, custom, region } = s3Endpoint(settings);
  if (settings.profile) process.env.AWS_PROFILE ??= settings.profile;
  const client = new sdk.S3Client({
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    forcePathStyle: settings.path_style ?? custom,
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    // S3-compatible servers (radosgw 16, older MinIO) refuse the SDK's default trailing
    // checksums; every download is verified against its sha256 name anyway.
    ...(custom && !process.env.AWS_REQUEST_CHECKSUM_CALCULATION ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
    ...(custom && !process.env.AWS_RESPONSE_CHECKSUM_VALIDATION ? { responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    maxAttempts: 3,
    requestHandler: { httpAgent: { keepAlive: true, maxSockets }, httpsAgent: { keepAlive: true, maxSockets } },
  });
  return { client, sdk };
}

/** The HTTP status of a failed S3 call, if the server answered. */
export function s3Status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** A failed S3 call as one sentence a researcher can act on. */
export function s3Error(error: unknown, what: string, where: string, bucket: string): UserError {
  const name = (error as Error)?.name ?? '';
  const code = (error as NodeJS.ErrnoException)?.code;
  const status = s3Status(error);
  let why: string;
  if (name === 'CredentialsProviderError' || /Could not load credentials/.test((error as Error)?.message ?? '')) {
    why = 'no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or `profile:` in the remote) naming a profile in ~/.aws/credentials';
  } else if (name === 'NoSuchBucket' || (status === 404 && what.startsWith('HEAD bucket'))) {
    why = `the bucket "${bucket}" does not exist there (create it, e.g. \`aws s3 mb s3://${bucket}\`, or fix the URL)`;
  } else if (status === 403 || ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden'].includes(name)) {
    why = `the request was denied (${name || status}): check the credentials and that their policy allows this on s3://${bucket}`;
  } else if (/region/i.test((error as Error)?.message ?? '') && !status) {
    why = 'no region is set: set AWS_REGION, `region:` in the remote, or a region in ~/.aws/config';
  } else if (code || status === undefined) {
    why = `${code ?? (error as Error)?.message ?? String(error)}; is the server up and the endpoint right?`;
  } else {
    why = `the server answered ${status ?? '?'} ${name}`;
  }
  return new UserError(`${where}: ${what} failed: ${why}`, undefined, 4);
}
