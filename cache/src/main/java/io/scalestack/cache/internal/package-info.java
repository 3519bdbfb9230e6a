/** The parts of the cache tier behind {@link io.scalestack.cache.TieredCache}; not an API. */
package io.scalestack.cache.internal;
