import { UserError, type Where } from '../errors.js';
import { makeS3Client, parseS3Url, s3Endpoint, s3Error, s3Status, type S3Settings } from '../remotes/s3-client.js';

/**
 * What stands for a URL dep's content in the key and the lock, as DVC records it: the ETag (and
 * the version id of a versioned bucket), else Last-Modified with the size. Nothing is
 * downloaded. One HEAD per URL per run.
 */
export class UrlDeps {
  private readonly memo = new Map<string, Promise<string>>();
  private s3: ReturnType<typeof makeS3Client> | undefined;

  /** `s3`: the project's S3 remote settings, so data and cache on one MinIO/Ceph server need one configuration. */
  constructor(private readonly s3Settings: S3Settings = {}) {}

  signature(url: string, where?: Where): Promise<string> {
    let known = this.memo.get(url);
    if (!known) {
      known = url.toLowerCase().startsWith('s3://') ? this.s3Signature(url) : httpSignature(url);
      this.memo.set(url, known);
      // A failure is not remembered: the next run (or a retry in watch) asks again.
      known.catch(() => this.memo.delete(url));
    }
    return known.catch((error: unknown) => {
      throw error instanceof UserError ? new UserError(error.message, where, error.exitCode) : error;
    });
  }

  private async s3Signature(url: string): Promise<string> {
    const { bucket, prefix: key } = parseS3Url(url);
    this.s3 ??= makeS3Client(this.s3Settings, 4);
    const { client, sdk } = await this.s3;
    const endpoint = s3Endpoint(this.s3Settings).label;
    try {
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
      if (!head.ETag) throw new UserError(`dep ${url}: the server sent no ETag, so a change could not be seen`);
      return `s3 etag ${head.ETag.replace(/"/g, '')}${head.VersionId && head.VersionId !== 'null' ? ` version ${head.VersionId}` : ''}`;
    } catch (error) {
      if (error instanceof UserError) throw error;
      if (s3Status(error) === 404) {
        throw new UserError(`dep ${url} does not exist (HEAD answered 404 on ${endpoint}); fix the key, or add the stage that uploads it`);
      }
      throw s3Error(error, `HEAD ${key}`, `dep ${url} (${endpoint})`, bucket);
    }
  }

  close(): void {
    void this.s3?.then(({ client }) => client.destroy(), () => undefined);
  }
}

async function httpSignature(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    const code = cause?.code ?? (cause as { errors?: NodeJS.ErrnoException[] } | undefined)?.errors?.[0]?.code;
    throw new UserError(`dep ${url}: HEAD failed (${code ?? cause?.message ?? (error as Error).message}); is the server up?`, undefined, 4);
  }
  if (!response.ok) throw new UserError(`dep ${url}: HEAD answered ${response.status} ${response.statusText}`.trimEnd(), undefined, 4);
  const etag = response.headers.get('etag');
  // A weak ETag (W/"…") still changes with the content on the servers that send it; DVC uses it too.
  if (etag) return `http etag ${etag}`;
  const modified = response.headers.get('last-modified');
  const size = response.headers.get('content-length');
  if (modified && size !== null) return `http last-modified ${modified} size ${size}`;
  throw new UserError(
    `dep ${url}: the server sends neither an ETag nor Last-Modified with Content-Length, so pipeline cannot tell when it changes; download it in a stage of its own (cmd: curl -o data/... ${url}, outs: [data/...], always_changed: true) and depend on that file`,
  );
}
