/**
 * The photo service: {@link io.scalestack.app.WebServer}, one stateless web server of the fleet
 * behind the balancer. Accounts live in PostgreSQL, sessions in Redis; the server itself keeps no
 * user state, so any member can answer any request.
 */
package io.scalestack.app;
