DROP TABLE execution_steps;
DROP TABLE execution_runs;
DROP TABLE outbox;
DROP TABLE execution_denials;
DROP TABLE approvals;
DROP TABLE deliverables;
