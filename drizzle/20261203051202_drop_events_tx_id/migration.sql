-- Nothing has read tx_id since the sequencer (20261202125520_event_sequencer) gave events their
-- position after commit; it only cost pg_current_xact_id() per event and eight bytes a row.
ALTER TABLE "events" DROP COLUMN "tx_id";
