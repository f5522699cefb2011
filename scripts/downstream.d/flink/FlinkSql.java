import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.CloseableIterator;

/**
 * Runs Flink SQL files in a local MiniCluster (streaming mode, parallelism 1,
 * session time zone UTC), for scripts/downstream.
 *
 * <pre>java -cp LIB/*:CLASSES FlinkSql [--bounded] FILE.sql...</pre>
 *
 * Statements end with a ';' at the end of a line; '--' comments are dropped.
 * DDL and INSERTs are executed (INSERTs awaited). Each SELECT (or WITH) is
 * run to its end and its final result is printed on stdout, one JSON object
 * per row, sorted, with "_query" = "FILE#N" (N counts the queries of that
 * file from 1): the changelog the query emits (+I, -U, +U, -D) is applied
 * first, so an updating query (an upsert-kafka table, a deduplication) prints
 * the rows it ends with. Timestamps print as ISO 8601 (an Instant with Z).
 *
 * --bounded: after each CREATE TABLE whose connector is kafka or upsert-kafka,
 * ALTER TABLE ... SET ('scan.bounded.mode' = 'latest-offset'), so the
 * definitions stay as written for a continuous job and every query ends at
 * the end of the topics as they were when it started; a table with a
 * WATERMARK also gets 'scan.watermark.emit.strategy' = 'on-event'. A topic
 * read from the start in a fraction of a second would otherwise pass every
 * message before the first periodic watermark (every 200 ms), and no message
 * would ever be late; on-event advances the watermark after each message, as
 * a live stream whose messages arrive over minutes does.
 */
public final class FlinkSql {
    private static final Pattern CREATE_TABLE = Pattern.compile(
            "^\\s*CREATE\\s+(?:TEMPORARY\\s+)?TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?([`\\w.]+)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern KAFKA_CONNECTOR = Pattern.compile(
            "'connector'\\s*=\\s*'(?:upsert-)?kafka'", Pattern.CASE_INSENSITIVE);
    private static final Pattern WATERMARK = Pattern.compile("\\bWATERMARK\\s+FOR\\b", Pattern.CASE_INSENSITIVE);
    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");

    public static void main(String[] args) throws Exception {
        boolean bounded = false;
        List<Path> files = new ArrayList<>();
        for (String arg : args) {
            if (arg.equals("--bounded")) {
                bounded = true;
            } else {
                files.add(Path.of(arg));
            }
        }
        Configuration conf = new Configuration();
        conf.setString("parallelism.default", "1");
        conf.setString("table.local-time-zone", "UTC");
        conf.setString("rest.bind-address", "127.0.0.1");
        conf.setString("rest.address", "127.0.0.1");
        TableEnvironment env = TableEnvironment.create(
                EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build());
        for (Path file : files) {
            int query = 0;
            for (String statement : statements(Files.readString(file))) {
                String head = statement.stripLeading().toUpperCase(Locale.ROOT);
                if (head.startsWith("SELECT") || head.startsWith("WITH")) {
                    query++;
                    printResult(file.getFileName() + "#" + query, env.executeSql(statement));
                } else {
                    TableResult result = env.executeSql(statement);
                    if (head.startsWith("INSERT") || head.startsWith("EXECUTE")) {
                        result.await();
                    }
                    Matcher table = CREATE_TABLE.matcher(statement);
                    if (bounded && table.find() && KAFKA_CONNECTOR.matcher(statement).find()) {
                        String options = "'scan.bounded.mode' = 'latest-offset'";
                        if (WATERMARK.matcher(statement).find()) {
                            options += ", 'scan.watermark.emit.strategy' = 'on-event'";
                        }
                        env.executeSql("ALTER TABLE " + table.group(1) + " SET (" + options + ")");
                    }
                }
            }
        }
        // The MiniCluster's threads would keep the JVM up for a while.
        System.out.flush();
        System.exit(0);
    }

    /** The statements of a file: comments dropped, split at a ';' that ends a line. */
    static List<String> statements(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String code = stripComment(line);
            String trimmed = code.stripTrailing();
            if (trimmed.endsWith(";")) {
                current.append(trimmed, 0, trimmed.length() - 1);
                if (!current.toString().isBlank()) {
                    out.add(current.toString());
                }
                current.setLength(0);
            } else {
                current.append(code).append('\n');
            }
        }
        if (!current.toString().isBlank()) {
            out.add(current.toString());
        }
        return out;
    }

    /** A line without its '--' comment (one outside a string literal). */
    static String stripComment(String line) {
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\'') {
                quoted = !quoted;
            } else if (!quoted && c == '-' && i + 1 < line.length() && line.charAt(i + 1) == '-') {
                return line.substring(0, i);
            }
        }
        return line;
    }

    static void printResult(String label, TableResult result) throws Exception {
        List<Column> columns = result.getResolvedSchema().getColumns();
        // Final rows, as JSON text -> how many times; the changelog is applied to it.
        TreeMap<String, Integer> rows = new TreeMap<>();
        try (CloseableIterator<Row> it = result.collect()) {
            while (it.hasNext()) {
                Row row = it.next();
                StringBuilder json = new StringBuilder("{\"_query\":").append(quote(label));
                for (int i = 0; i < columns.size(); i++) {
                    json.append(',').append(quote(columns.get(i).getName())).append(':');
                    value(json, row.getField(i), columns.get(i).getDataType().getLogicalType());
                }
                String text = json.append('}').toString();
                RowKind kind = row.getKind();
                if (kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER) {
                    rows.merge(text, 1, Integer::sum);
                } else if (rows.merge(text, -1, Integer::sum) == 0) {
                    rows.remove(text);
                }
            }
        }
        int count = 0;
        for (Map.Entry<String, Integer> entry : rows.entrySet()) {
            for (int i = 0; i < entry.getValue(); i++) {
                System.out.println(entry.getKey());
                count++;
            }
        }
        System.err.println("flink: " + label + ": " + count + " rows");
    }

    static void value(StringBuilder out, Object value, LogicalType type) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Boolean || value instanceof Integer || value instanceof Long
                || value instanceof Short || value instanceof Byte || value instanceof java.math.BigDecimal) {
            out.append(value);
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            out.append(Double.isFinite(d) ? Double.toString(d) : quote(Double.toString(d)));
        } else if (value instanceof Instant) {
            out.append(quote(value.toString()));
        } else if (value instanceof LocalDateTime) {
            LocalDateTime time = (LocalDateTime) value;
            String text = LOCAL.format(time);
            if (time.getNano() != 0) {
                text += String.format(".%09d", time.getNano()).replaceAll("0+$", "");
            }
            out.append(quote(text));
        } else if (value instanceof Object[]) {
            LogicalType element = type instanceof ArrayType ? ((ArrayType) type).getElementType() : null;
            out.append('[');
            Object[] array = (Object[]) value;
            for (int i = 0; i < array.length; i++) {
                if (i > 0) {
                    out.append(',');
                }
                value(out, array[i], element);
            }
            out.append(']');
        } else if (value instanceof Map) {
            LogicalType valueType = type instanceof MapType ? ((MapType) type).getValueType() : null;
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> entry : new TreeMap<>((Map<?, ?>) value).entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                out.append(quote(String.valueOf(entry.getKey()))).append(':');
                value(out, entry.getValue(), valueType);
            }
            out.append('}');
        } else if (value instanceof Row) {
            Row row = (Row) value;
            List<String> names = type instanceof RowType ? ((RowType) type).getFieldNames() : null;
            out.append('{');
            for (int i = 0; i < row.getArity(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(quote(names != null ? names.get(i) : "f" + i)).append(':');
                value(out, row.getField(i), type instanceof RowType ? ((RowType) type).getTypeAt(i) : null);
            }
            out.append('}');
        } else if (value instanceof byte[]) {
            out.append(quote(new String((byte[]) value, java.nio.charset.StandardCharsets.UTF_8)));
        } else {
            out.append(quote(value.toString()));
        }
    }

    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        return out.append('"').toString();
    }
}
