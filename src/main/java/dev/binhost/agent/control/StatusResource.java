package dev.binhost.agent.control;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.Map;

/** Read-only status over HTTP for users who cannot open the root-only socket. Actions are not offered here. */
@Path("/status")
public class StatusResource {
    @Inject
    StatusReport report;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> status() {
        return report.snapshot();
    }
}
