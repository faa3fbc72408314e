package dev.binhost.agent.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;

/**
 * {@code GET /status}: the control socket's status report, read-only over HTTP for users who cannot open the
 * root-only socket; actions are not offered here (any other method is 405). A plain Vert.x route on the HTTP
 * server health and metrics already use, so the agent carries no JAX-RS stack for one document. The report and
 * Jackson are looked up on the first request: registering the route creates nothing on the start-up path.
 */
@ApplicationScoped
public class StatusRoute {
    void register(@Observes Router router, Instance<StatusReport> report) {
        router.route("/status").handler(ctx -> {
            if (ctx.request().method() != HttpMethod.GET) {
                ctx.response().setStatusCode(405).putHeader("Allow", "GET").end();
            } else {
                ctx.next();
            }
        });
        // on a worker thread: the report asks every component for its section, which the event loop must not wait for
        router.get("/status").blockingHandler(ctx -> {
            String body;
            try {
                body = ControlProtocol.shared().writeValueAsString(report.get().snapshot());
            } catch (JsonProcessingException e) {
                ctx.fail(e);
                return;
            }
            ctx.response().putHeader("Content-Type", "application/json").end(body);
        }, false);
    }
}
