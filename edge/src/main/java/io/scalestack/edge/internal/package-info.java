/** The edge's implementation; not an API. */
package io.scalestack.edge.internal;
