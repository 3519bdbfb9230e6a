/** Parts shared by the stores of {@code io.scalestack.blob} (the key rule); not an API: may change without notice. */
package io.scalestack.blob.internal;
