import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { UnsafeCacheEntryError } from '../store/untrusted.js';
import { saveHashed, tooLarge, type PartialUpload, type Remote, type RemoteConfig, type RemoteEntry, type RemoteMaintenance } from './remote.js';
import { makeS3Client, parseS3Url, s3Endpoint, s3Error, s3Status, type S3Sdk } from './s3-client.js';

const LOCAL_FAILURES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EMFILE']);

/** Above this an object goes up in parts: a part that fails is retried alone, parts go in parallel. */
const MULTIPART_BYTES = Number(process.env.PIPELINE_S3_MULTIPART_BYTES) || 64 * 1024 * 1024;
const PART_BYTES = Math.max(5 * 1024 * 1024, Number(process.env.PIPELINE_S3_PART_BYTES) || 16 * 1024 * 1024);

/**
 * An S3 bucket (AWS, MinIO, Ceph's radosgw, R2) under a key prefix. Objects are content-
 * addressed, so a PUT races only with an identical PUT; `If-None-Match: *` skips rewriting
 * what is already there where the server supports conditional writes.
 */
export class S3Remote implements Remote {
  private client!: S3Client;
  private sdk!: S3Sdk;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly endpoint: string;
  private checked: Promise<void> | undefined;
  private readonly config: RemoteConfig;
  private conditionalWrites = true;
  readonly maintenance: RemoteMaintenance;

  constructor(
    readonly url: string,
    config: RemoteConfig,
  ) {
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix ? `${prefix}/` : '';
    this.endpoint = s3Endpoint(config).label;
    this.config = config;
    this.maintenance = {
      list: (prefix) => this.list(prefix),
      remove: (key) => this.remove(key),
      partialUploads: () => this.partialUploads(),
      discard: (upload) => this.discard(upload),
    };
  }

  private where(): string {
    return `remote ${this.url} (${this.endpoint})`;
  }

  /** One HEAD of the bucket before the first request, so a missing bucket or bad key says so once. */
  private ready(): Promise<void> {
    this.checked ??= (async () => {
      ({ client: this.client, sdk: this.sdk } = await makeS3Client(this.config));
      try {
        await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.bucket }));
      } catch (error) {
        throw s3Error(error, 'HEAD bucket', this.where(), this.bucket);
      }
    })();
    return this.checked;
  }

  private async call<T>(what: string, key: string, run: () => Promise<T>): Promise<T> {
    await this.ready();
    try {
      return await run();
    } catch (error) {
      // Our own side failing (a full disk while downloading) is not the server's doing.
      if (error instanceof UnsafeCacheEntryError || LOCAL_FAILURES.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      throw s3Error(error, `${what} ${key}`, this.where(), this.bucket);
    }
  }

  async has(key: string): Promise<boolean> {
    return this.call('HEAD', key, async () => {
      try {
        await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
        return true;
      } catch (error) {
        if (s3Status(error) === 404) return false;
        throw error;
      }
    });
  }

  async get(key: string, dest: string, maxBytes = Infinity): Promise<string | false> {
    return this.call('GET', key, async () => {
      let body: Readable;
      try {
        const response = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
        if ((response.ContentLength ?? 0) > maxBytes) {
          (response.Body as Readable).destroy();
          throw tooLarge(key, maxBytes, this.url);
        }
        body = response.Body as Readable;
      } catch (error) {
        if (s3Status(error) === 404) return false;
        throw error;
      }
      return saveHashed(body, dest, key, maxBytes, this.url);
    });
  }

  async put(key: string, source: string, onBytes?: (sent: number) => void): Promise<void> {
    const size = statSync(source).size;
    const Key = this.prefix + key;
    await this.call('PUT', key, async () => {
      if (size > MULTIPART_BYTES) {
        // A failed upload aborts its parts; a killed one leaves them for `cache gc --remote`.
        const { Upload } = await import('@aws-sdk/lib-storage');
        const upload = new Upload({ client: this.client, params: { Bucket: this.bucket, Key, Body: createReadStream(source) }, partSize: PART_BYTES, queueSize: 4, leavePartsOnError: false });
        if (onBytes) upload.on('httpUploadProgress', (progress) => onBytes(progress.loaded ?? 0));
        await upload.done();
        return;
      }
      const conditional = this.conditionalWrites && key.startsWith('objects/');
      try {
        await this.client.send(
          new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: createReadStream(source, { highWaterMark: 1 << 20 }), ContentLength: size, ...(conditional ? { IfNoneMatch: '*' } : {}) }),
        );
      } catch (error) {
        const status = s3Status(error);
        if (conditional && status === 412) return; // already there, and content-addressed
        if (conditional && (status === 501 || status === 400)) {
          this.conditionalWrites = false;
          await this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: createReadStream(source), ContentLength: size }));
          return;
        }
        throw error;
      }
    });
  }

  private async *list(prefix: string): AsyncIterable<RemoteEntry> {
    let token: string | undefined;
    do {
      const page = await this.call('LIST', prefix, () =>
        this.client.send(new this.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key) yield { key: item.Key.slice(this.prefix.length), size: item.Size ?? 0, modified: item.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async remove(key: string): Promise<void> {
    await this.call('DELETE', key, () => this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key })));
  }

  private readonly uploads = new Map<string, { Key: string; UploadId: string }>();

  private async *partialUploads(): AsyncIterable<PartialUpload> {
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      const page = await this.call('LIST uploads', this.prefix || '/', () =>
        this.client.send(new this.sdk.ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix, ...(keyMarker ? { KeyMarker: keyMarker, UploadIdMarker: idMarker } : {}) })),
      );
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId) continue;
        const name = `${upload.Key.slice(this.prefix.length)} (multipart upload ${upload.UploadId})`;
        this.uploads.set(name, { Key: upload.Key, UploadId: upload.UploadId });
        yield { name, started: upload.Initiated ?? new Date(0), size: 0 };
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      idMarker = page.NextUploadIdMarker;
    } while (keyMarker);
  }

  private async discard(upload: PartialUpload): Promise<void> {
    const found = this.uploads.get(upload.name);
    if (!found) return;
    await this.call('ABORT', upload.name, () => this.client.send(new this.sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, ...found })));
  }

  close(): void {
    this.client?.destroy();
  }
}
