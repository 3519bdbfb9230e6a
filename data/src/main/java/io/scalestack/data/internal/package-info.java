/** Internals of {@code io.scalestack.data}: not an API, may change at any time. */
package io.scalestack.data.internal;
