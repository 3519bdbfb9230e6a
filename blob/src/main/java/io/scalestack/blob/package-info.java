/**
 * Immutable objects (photos) by key, shared by every web server and worker: {@link io.scalestack.blob.BlobStore}, with
 * {@link io.scalestack.blob.DirectoryBlobStore} (a shared or local directory, atomic rename) and
 * {@link io.scalestack.blob.S3BlobStore} (Amazon S3 or any S3-compatible server).
 */
package io.scalestack.blob;
