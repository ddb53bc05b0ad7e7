DROP TABLE approvals;
DROP TABLE deliverables;
