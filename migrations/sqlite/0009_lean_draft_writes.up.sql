-- A deliverable's goal, hired agent and customer must be the goal's own (PostgreSQL checks this
-- with one foreign key on the three; SQLite keeps its three keys and checks the agreement here).
CREATE TRIGGER deliverables_goal_owner_insert BEFORE INSERT ON deliverables
WHEN NOT EXISTS (SELECT 1 FROM goal_instances g WHERE g.id = NEW.goal_instance_id
                 AND g.hired_agent_id = NEW.hired_agent_id AND g.customer_id = NEW.customer_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a deliverable''s agent and customer must be its goal''s');
END;
CREATE TRIGGER deliverables_goal_owner_update BEFORE UPDATE OF goal_instance_id, hired_agent_id, customer_id ON deliverables
WHEN NOT EXISTS (SELECT 1 FROM goal_instances g WHERE g.id = NEW.goal_instance_id
                 AND g.hired_agent_id = NEW.hired_agent_id AND g.customer_id = NEW.customer_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a deliverable''s agent and customer must be its goal''s');
END;
