package dev.binhost.agent.portage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The resume list in Portage's {@code /var/cache/edb/mtimedb} (JSON): what an unfinished emerge still has to merge,
 * the list {@code emerge --resume} works from. Portage writes it when a merge starts and drops each package as
 * it completes; after a failure it keeps the rest. Only {@code resume.mergelist} is read, entries of the form
 * {@code ["binary", "/", "dev-libs/libdemo-1.2.3", "merge"]}.
 */
public final class MtimeDb {
    /** An mtimedb is a few kilobytes; this bound is far above any real one. */
    static final long MAX_SIZE = 16L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private MtimeDb() {
    }

    /** One package still to merge: its type (binary, ebuild), root, cpv and action (merge, nomerge, uninstall). */
    public record Pending(String type, String root, String cpv, String action) {
    }

    /**
     * The packages the resume list still holds for merging; empty when there is no mtimedb or no resume list.
     *
     * @throws IOException the file cannot be read or is not Portage's JSON (message names the file)
     */
    public static List<Pending> resumeList(Path mtimedb) throws IOException {
        JsonNode root;
        try {
            if (Files.size(mtimedb) > MAX_SIZE) {
                throw new IOException(mtimedb + " is larger than " + MAX_SIZE + " bytes; not an mtimedb");
            }
            root = JSON.readTree(Files.readAllBytes(mtimedb));
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(mtimedb + " is not JSON (" + e.getOriginalMessage() + ")");
        }
        JsonNode list = root == null ? null : root.path("resume").path("mergelist");
        if (list == null || !list.isArray()) {
            return List.of();
        }
        List<Pending> pending = new ArrayList<>();
        for (JsonNode e : list) {
            if (e.isArray() && e.size() >= 4 && e.get(2).isTextual()) {
                String action = e.get(3).asText();
                if (action.equals("merge")) {
                    pending.add(new Pending(e.get(0).asText(), e.get(1).asText(), e.get(2).asText(), action));
                }
            }
        }
        return List.copyOf(pending);
    }
}
