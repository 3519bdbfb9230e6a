/** Implementation details of the engines module; not API, may change without notice. */
package io.scalestack.engines.internal;
