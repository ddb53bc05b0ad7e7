-- Each draft the scheduler writes costs an entry in every index of deliverables and a lookup per
-- foreign key; at a hundred thousand drafts a day these are most of the database's work.
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

-- The waiting items' queue reads deliverables_status_idx from its 'pending_review' entries, in
-- the same (created_at, id) order as this partial index, which was a second copy of them.
DROP INDEX deliverables_pending_idx;
