-- Each draft the scheduler writes costs a lookup per foreign key (and a row lock on what it
-- references, which passes running at once contend for); at a hundred thousand drafts a day these
-- are a large part of the database's work.
--
-- One foreign key instead of three: a deliverable's goal, hired agent and customer must be the
-- goal's own, checked with one lookup. It also refuses what the three separate keys allowed: a
-- deliverable whose agent or customer is not its goal's.
ALTER TABLE goal_instances
    ADD CONSTRAINT goal_instances_owner_key UNIQUE (id, hired_agent_id, customer_id);
ALTER TABLE deliverables
    DROP CONSTRAINT deliverables_hired_agent_id_fkey,
    DROP CONSTRAINT deliverables_customer_id_fkey,
    DROP CONSTRAINT deliverables_goal_instance_id_fkey,
    ADD CONSTRAINT deliverables_goal_owner_fkey FOREIGN KEY (goal_instance_id, hired_agent_id, customer_id)
        REFERENCES goal_instances (id, hired_agent_id, customer_id);
