package neo4jctl.neo4jreal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Result;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * Launcher starts an embedded Neo4j Community DBMS with a Bolt connector on 127.0.0.1 for the
 * neo4jctl contract suite, and is driven by the Go package e2e/neo4jreal.
 *
 * <p>Usage: {@code java -Xmx1g -cp ... neo4jctl.neo4jreal.Launcher --home DIR [--port N]}.
 * The initial password of the {@code neo4j} user comes from the environment variable
 * {@code NEO4JREAL_PASSWORD} or, when that is unset, from the first line of standard input;
 * never from argv, where any local user could read it in the process table.
 *
 * <p>Protocol on standard output: exactly one line {@code READY bolt://127.0.0.1:PORT
 * version=V edition=E} once Bolt accepts authenticated logins, or {@code FAILED reason} before
 * a non-zero exit. Everything else goes to standard error. The server shuts down cleanly on
 * SIGTERM/SIGINT or when standard input reaches end of file, so a killed parent never leaves
 * an orphaned server behind.
 */
public final class Launcher {
    /** PASSWORD_ENV names the environment variable that carries the initial password. */
    static final String PASSWORD_ENV = "NEO4JREAL_PASSWORD";

    private Launcher() {}

    public static void main(String[] args) {
        // Keep stdout for the protocol line only: anything Neo4j or its libraries print
        // to System.out would otherwise interleave with READY.
        PrintStream protocol = System.out;
        System.setOut(System.err);
        try {
            run(args, protocol);
        } catch (Throwable t) {
            t.printStackTrace(System.err);
            protocol.println("FAILED " + oneLine(t.toString()));
            protocol.flush();
            System.exit(1);
        }
    }

    private static void run(String[] args, PrintStream protocol) throws IOException {
        Path home = null;
        int port = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--home" -> home = Path.of(value(args, ++i, "--home"));
                case "--port" -> port = Integer.parseInt(value(args, ++i, "--port"));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (home == null) {
            throw new IllegalArgumentException("--home is required");
        }

        BufferedReader stdin =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String password = System.getenv(PASSWORD_ENV);
        if (password == null || password.isEmpty()) {
            password = stdin.readLine();
        }
        if (password == null || password.length() < 8) {
            // Neo4j's default dbms.security.auth_minimum_password_length is 8.
            throw new IllegalArgumentException(
                    "initial password missing or shorter than 8 characters: set "
                            + PASSWORD_ENV + " or write it as the first line of stdin");
        }

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                // A test server holds a few nodes: a small page cache keeps the JVM
                // inside -Xmx1g plus little off-heap memory on a shared 2-core machine.
                .setConfig(GraphDatabaseSettings.pagecache_memory, 64L * 1024 * 1024)
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .build();

        AtomicBoolean stopped = new AtomicBoolean();
        Runnable shutdown = () -> {
            if (stopped.compareAndSet(false, true)) {
                System.err.println("neo4jreal: shutting down");
                dbms.shutdown();
            }
        };
        Runtime.getRuntime().addShutdownHook(new Thread(shutdown, "neo4jreal-shutdown"));

        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        // Embedded transactions run without authentication, so this is how the first
        // password is set without the change-required dance a Bolt client would face.
        system.executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                Map.of("password", password));

        String version = "unknown";
        String edition = "unknown";
        try (var tx = system.beginTx();
                Result r = tx.execute("CALL dbms.components() YIELD versions, edition")) {
            if (r.hasNext()) {
                Map<String, Object> row = r.next();
                Object versions = row.get("versions");
                if (versions instanceof java.util.List<?> l && !l.isEmpty()) {
                    version = String.valueOf(l.get(0));
                }
                edition = String.valueOf(row.get("edition"));
            }
        }

        // With --port 0 the OS picks the port; the register knows which one it chose.
        ConnectorPortRegister ports = ((GraphDatabaseAPI) system)
                .getDependencyResolver()
                .resolveDependency(ConnectorPortRegister.class);
        var bolt = ports.getLocalAddress(ConnectorType.BOLT);
        protocol.println("READY bolt://" + bolt.getHost() + ":" + bolt.getPort()
                + " version=" + version + " edition=" + edition);
        protocol.flush();

        // Block until the parent closes stdin (or dies, which closes it too).
        while (stdin.read() >= 0) {
            // Ignore anything written after the password; only EOF matters.
        }
        System.exit(0);
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
