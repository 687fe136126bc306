#!/bin/sh
# The production broker of docker-compose.yml (apache/kafka image): SASL/SCRAM-SHA-512 for every client, ACLs enforced.
# Users and passwords come from Docker secrets (/run/secrets/kafka-<user>, hex passwords: openssl rand -hex 24);
# they are written into the metadata log when the data directory is first formatted. A user added later:
#   kafka-configs.sh --bootstrap-server kafka:9092 --command-config admin.properties --alter \
#     --add-config 'SCRAM-SHA-512=[password=...]' --entity-type users --entity-name <user>
set -eu
KAFKA_HOME=${KAFKA_HOME:-/opt/kafka}
DATA=${KAFKA_DATA:-/var/lib/kafka/data}
CONF=${KAFKA_CONF:-/tmp/server.properties}
USERS="admin contracts orders settlement alerts clock"
secret() { cat "/run/secrets/kafka-$1"; }

sed -e "s|@LISTEN_HOST@|0.0.0.0|g" -e "s|@ADVERTISED_HOST@|${KAFKA_ADVERTISED_HOST:-kafka}|g" \
    -e "s|@PORT@|9092|g" -e "s|@CONTROLLER_PORT@|9093|g" -e "s|@LOG_DIRS@|$DATA|g" \
    /etc/jicai/server-sasl.properties > "$CONF"
chmod 600 "$CONF"
printf 'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="%s";\n' \
    "$(secret admin)" >> "$CONF"

# The healthcheck's client login (kafka-broker-api-versions.sh --command-config), readable by the broker's user only.
umask 077
printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="%s";\n' \
    "$(secret admin)" > /tmp/admin-client.properties

if [ ! -f "$DATA/meta.properties" ]; then
    set --
    for user in $USERS; do
        set -- "$@" --add-scram "SCRAM-SHA-512=[name=$user,password=$(secret "$user")]"
    done
    "$KAFKA_HOME/bin/kafka-storage.sh" format -t "$("$KAFKA_HOME/bin/kafka-storage.sh" random-uuid)" -c "$CONF" "$@"
fi
exec "$KAFKA_HOME/bin/kafka-server-start.sh" "$CONF"
